//go:build tools

// Package tools pins the Temporal CLI, whose `server start-dev` command is the
// local Temporal server with its embedded Web UI.
package tools

import _ "github.com/temporalio/cli/cmd/temporal"
