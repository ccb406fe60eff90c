package smtpd

import (
	"errors"

	"github.com/emersion/go-sasl"
)

// loginServer is the server side of the obsolete but still common LOGIN
// mechanism (draft-murchison-sasl-login): Outlook and many practice
// programs offer nothing else. go-sasl has no server for it.
type loginServer struct {
	step     int
	username string
	auth     func(username, password string) error
}

var _ sasl.Server = (*loginServer)(nil)

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step++
		if response != nil { // initial response: the user name
			l.username = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.username = string(response)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.auth(l.username, string(response))
	}
	return nil, true, errors.New("smtpd: unexpected LOGIN step")
}
