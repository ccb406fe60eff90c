package certs

import (
	"context"
	"fmt"
	"strings"

	"mssanted/db"
)

// Revocation reasons (RFC 5280, CRLReason) a certificate of this CA may be
// revoked for. certificateHold (6) and removeFromCRL (8) are left out: a
// revocation here is final.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonCACompromise         = 2
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
	ReasonPrivilegeWithdrawn   = 9
)

func checkReason(reason int) error {
	switch reason {
	case ReasonUnspecified, ReasonKeyCompromise, ReasonCACompromise, ReasonAffiliationChanged,
		ReasonSuperseded, ReasonCessationOfOperation, ReasonPrivilegeWithdrawn:
		return nil
	}
	return fmt.Errorf("certs: revocation reason %d not supported", reason)
}

// Revoke marks a certificate revoked (it appears in the next CRL and is no
// longer returned by ByAddress). An unknown serial gives an error wrapping
// ErrNotFound. Revoking again is not an error and keeps the first date and
// reason: the CRL must tell when the certificate stopped being trusted.
func (r *Registry) Revoke(ctx context.Context, serial string, reason int) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	s, ok := normalizeSerial(serial)
	if !ok {
		return fmt.Errorf("certs: revoke %q: %w", serial, ErrNotFound)
	}
	res, err := r.db.Write().ExecContext(ctx, `UPDATE certificates
		SET revoked_at = COALESCE(revoked_at, $1),
		    revocation_reason = COALESCE(revocation_reason, $2)
		WHERE serial = $3`, db.Now(), reason, s)
	if err != nil {
		return fmt.Errorf("certs: revoke %s: %w", s, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("certs: revoke %s: %w", s, err)
	}
	if n == 0 {
		return fmt.Errorf("certs: revoke %s: %w", s, ErrNotFound)
	}
	return nil
}

// RevokeAddress revokes every not yet revoked certificate of address
// (compared lowercase), for a closed mailbox. None is not an error.
func (r *Registry) RevokeAddress(ctx context.Context, address string, reason int) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	address = strings.ToLower(strings.TrimSpace(address))
	_, err := r.db.Write().ExecContext(ctx, `UPDATE certificates
		SET revoked_at = $1, revocation_reason = $2
		WHERE address = $3 AND revoked_at IS NULL`, db.Now(), reason, address)
	if err != nil {
		return fmt.Errorf("certs: revoke %s: %w", address, err)
	}
	return nil
}
