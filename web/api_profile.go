package web

// profileRoutes are the medical profile's operations (dmp/profile); their
// OpenAPI part is openapi-profile.json.
func (a *api) profileRoutes() []route { return nil }
