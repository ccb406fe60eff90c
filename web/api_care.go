package web

// careRoutes are the prevention, pregnancy, agenda, vaccination and
// catalogue operations (dmp/care); their OpenAPI part is openapi-care.json.
func (a *api) careRoutes() []route { return nil }
