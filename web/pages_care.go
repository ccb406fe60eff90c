package web

import "net/http"

// registerCare adds the pages of issue 9 (dmp/care, dmp/profile) once
// their stores are wired in.
func (p *pages) registerCare(mux *http.ServeMux) {}
