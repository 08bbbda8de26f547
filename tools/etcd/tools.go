//go:build tools

// Package tools pins etcd. Its server module root is package main, and its own
// replace directives stop `go install`, so the binary is built from this module.
package tools

import _ "go.etcd.io/etcd/server/v3"
