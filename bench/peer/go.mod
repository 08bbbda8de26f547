module firebreak.local/bench/peer

go 1.26

require github.com/falcosecurity/falco-talon v0.3.0
