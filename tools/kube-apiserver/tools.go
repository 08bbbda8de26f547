//go:build tools

// Package tools pins kube-apiserver and kube-controller-manager, built from
// k8s.io/kubernetes with its staging modules taken from their releases.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
