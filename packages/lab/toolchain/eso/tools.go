//go:build tools

// Test tool only: keeps ESO's main package in the module graph so `go mod tidy` keeps its
// dependencies; the build itself names github.com/external-secrets/external-secrets directly.
package tools

import _ "github.com/external-secrets/external-secrets"
