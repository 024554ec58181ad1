package pos

import (
	"strings"

	"github.com/paydesk/paydesk"
)

// A ticket's QR encodes "PDTK1." and the ticket's token: a fixed prefix,
// so a cashier app tells a ticket from a payment code or a pay URL before
// it asks the server, and a version, so the format can change.
const (
	ticketPayloadPrefix = "PDTK1."
	ticketTokenBytes    = 24 // 32 base64url characters
	ticketTokenLen      = 32
)

// ErrInvalidTicketPayload is a scanned text that is not a paydesk ticket.
var ErrInvalidTicketPayload = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "TICKET_PAYLOAD_INVALID", Message: "this QR code is not a paydesk ticket"}

// TicketPayload is what the QR of a ticket encodes.
func TicketPayload(t Ticket) string { return ticketPayloadPrefix + t.Token }

// ParseTicketPayload reads a scanned ticket QR and returns its token. Only
// the exact form TicketPayload writes is accepted (surrounding white space
// aside, which scanners add).
func ParseTicketPayload(s string) (string, error) {
	if len(s) > 128 {
		return "", ErrInvalidTicketPayload
	}
	token, ok := strings.CutPrefix(strings.TrimSpace(s), ticketPayloadPrefix)
	if !ok || len(token) != ticketTokenLen || !validToken(token) {
		return "", ErrInvalidTicketPayload
	}
	return token, nil
}
