package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/paydesk/paydesk/storage"
)

// sealBatch is how many wallets SealPlaintextSecrets seals per transaction.
const sealBatch = 500

// SealPlaintextSecrets seals the secrets of wallets written before secrets
// were sealed, a batch at a time, and returns how many wallets it sealed.
// Reads never needed it (a value without the prefix is read as plaintext);
// it is what leaves no secret in plain form in the database. A row is
// changed only if its secrets are still the ones read, so the pass is safe
// on several instances starting at once, against a concurrent write, and
// again after an interruption; once every row is sealed it changes nothing.
// A row whose sealed half does not open (wrong data key, or copied from
// another row) is left as it is, refusing its codes, and listed in
// unreadable; the others are sealed.
func (s *GormStore) SealPlaintextSecrets(ctx context.Context) (sealed int, unreadable []WalletID, err error) {
	var after int64
	for {
		rows, err := storage.QueryAll(ctx, s.db, scanSecrets,
			"SELECT id, code_secret, totp_secret FROM wallets WHERE id > ? AND (code_secret NOT LIKE ? OR totp_secret NOT LIKE ?) ORDER BY id LIMIT ?",
			after, sealedPrefix+"%", sealedPrefix+"%", sealBatch)
		if err != nil {
			return sealed, unreadable, fmt.Errorf("seal wallet secrets: %w", err)
		}
		if len(rows) == 0 {
			return sealed, unreadable, nil
		}
		after = rows[len(rows)-1].ID
		// Set afresh on each run: InTx may run the batch again.
		var n int
		var bad []WalletID
		err = s.db.InTx(ctx, func(ctx context.Context) error {
			n, bad = 0, nil
			for _, r := range rows {
				code, totp, _, err := r.secrets(s.sealer)
				if errors.Is(err, errSecretUnreadable) {
					bad = append(bad, WalletID(r.ID))
					continue
				}
				if err != nil {
					return err
				}
				cols, err := s.sealSecrets(WalletID(r.ID), code, totp)
				if err != nil {
					return err
				}
				res := s.db.Writer(ctx).Exec("UPDATE wallets SET code_secret = ?, totp_secret = ? WHERE id = ? AND code_secret = ? AND totp_secret = ?",
					cols[colCodeSecret], cols[colTOTPSecret], r.ID, r.CodeSecret, r.TOTPSecret)
				if res.Error != nil {
					return res.Error
				}
				n += int(res.RowsAffected)
			}
			return nil
		})
		if err != nil {
			return sealed, unreadable, fmt.Errorf("seal wallet secrets: %w", err)
		}
		sealed, unreadable = sealed+n, append(unreadable, bad...)
	}
}

func scanSecrets(sc storage.Scanner, r *walletRow) error {
	return sc.Scan(&r.ID, &r.CodeSecret, &r.TOTPSecret)
}

// ErrDataKeyWrong means the data key does not open the wallets' sealed
// secrets: every payment code and dynamic password would be refused.
var ErrDataKeyWrong = errors.New("the data key does not open the wallets' sealed secrets")

// dataKeyProbe is how many of the newest sealed wallets CheckDataKey tries.
const dataKeyProbe = 5

// CheckDataKey opens the sealed secrets of the newest wallets that have
// any, and returns ErrDataKeyWrong when none opens: a wrong data key is
// then told at start-up, not by every payment refused afterwards, and
// before SealPlaintextSecrets would seal older rows under it. One row
// copied from another (which does not open either) does not stop paydesk;
// a database with no sealed secret passes. The error names a wallet, never
// a key or a secret.
func (s *GormStore) CheckDataKey(ctx context.Context) error {
	rows, err := storage.QueryAll(ctx, s.db, scanSecrets,
		"SELECT id, code_secret, totp_secret FROM wallets WHERE code_secret LIKE ? OR totp_secret LIKE ? ORDER BY id DESC LIMIT ?",
		sealedPrefix+"%", sealedPrefix+"%", dataKeyProbe)
	if err != nil {
		return fmt.Errorf("check the data key: %w", err)
	}
	// Only a secret that does not open speaks of the key; a row broken
	// some other way (a corrupt plaintext half) is no sign either way.
	unreadable := 0
	for _, r := range rows {
		_, _, _, err := r.secrets(s.sealer)
		if err == nil {
			return nil
		}
		if errors.Is(err, errSecretUnreadable) {
			unreadable++
		}
	}
	if len(rows) > 0 && unreadable == len(rows) {
		return fmt.Errorf("%w (the newest %d wallets with sealed secrets, from wallet %d)", ErrDataKeyWrong, len(rows), rows[0].ID)
	}
	return nil
}
