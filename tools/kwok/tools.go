//go:build tools

// Package tools pins kwok, which plays the kubelet of fake nodes: it marks
// nodes Ready, runs scheduled pods and serves their logs and exec.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
