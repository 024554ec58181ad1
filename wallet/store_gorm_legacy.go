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
