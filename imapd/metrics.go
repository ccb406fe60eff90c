package imapd

import "github.com/prometheus/client_golang/prometheus"

var (
	connections = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mssanted_imap_connections", Help: "IMAP connections open now.",
	})
	loginsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mssanted_imap_logins_total", Help: "IMAP authentications, by result (ok, failed, locked).",
	}, []string{"result"})
)

// Register adds the door's metrics to reg.
func Register(reg prometheus.Registerer) {
	reg.MustRegister(connections, loginsTotal)
}
