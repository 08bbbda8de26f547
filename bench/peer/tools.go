//go:build tools

// Package tools pins Falco Talon, the open-source response engine for Falco alerts that the benchmarks
// run side by side with Firebreak. It is a benchmark peer only: no Firebreak code depends on it.
package tools

import _ "github.com/falcosecurity/falco-talon"
