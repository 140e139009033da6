//go:build tools

// Package talos pins the talosctl the tests build (see go.mod): the real
// `talosctl gen config` and `talosctl validate` check the machine configs the
// talos role generates. The replace lines are Talos's own (its go.mod), which do
// not apply to a module that merely depends on it.
package talos

import (
	_ "github.com/siderolabs/talos/cmd/talosctl"
)
