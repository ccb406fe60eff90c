package smtpd

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the SMTP door; Register adds them to the server's registry.
var (
	sessionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mssanted_smtp_sessions_total", Help: "SMTP sessions opened, by door.",
	}, []string{"door"})
	messagesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mssanted_smtp_messages_total", Help: "Messages after DATA, by door and result (accepted, refused, failed).",
	}, []string{"door", "result"})
	authFailuresTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mssanted_smtp_auth_failures_total", Help: "Failed SMTP authentications (wrong credentials or locked out).",
	})
	outboundTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mssanted_outbound_attempts_total", Help: "Outbound delivery attempts to other operators, by result (sent, retry, failed).",
	}, []string{"result"})
)

// Register adds the door's metrics to reg.
func Register(reg prometheus.Registerer) {
	reg.MustRegister(sessionsTotal, messagesTotal, authFailuresTotal, outboundTotal)
}
