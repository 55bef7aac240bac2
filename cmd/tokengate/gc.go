package main

import "runtime/debug"

// gatewayGCPercent is serve's garbage-collection target (GOGC) unless the
// environment sets GOGC. A token request allocates about 12 KB and keeps
// almost none of it, so the default 100 collects often on a small live heap:
// under wrk at 32 connections, 200 took 5–9 % off the server's CPU per
// request for about 6 MB more RSS (46 → 52 MB); 300 saved a little more but
// only stayed under the 64 MB RSS target with a memory limit, which a large
// journal budget could turn into back-to-back collections
// (docs/performance.md).
const gatewayGCPercent = 200

// tuneGC applies gatewayGCPercent unless getenv says GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gatewayGCPercent)
	}
}
