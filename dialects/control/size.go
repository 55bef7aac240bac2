package control

// entryOverhead approximates an entry's fixed part: its struct, the time
// and the numbers.
const entryOverhead = 256

// size estimates the memory an entry holds: its strings and the redacted
// headers and parameters, plus a fixed overhead (the journal_bytes gauge).
func (e *Entry) size() int64 {
	n := entryOverhead + len(e.Replica) + len(e.RequestID) + len(e.Dialect) + len(e.Route) + len(e.Method) +
		len(e.ClientID) + len(e.GrantType) + len(e.Error) + len(e.ErrorID) + len(e.Fault)
	for k, v := range e.Headers {
		n += len(k) + len(v) + 32
	}
	for k, vs := range e.Params {
		n += len(k) + 32
		for _, v := range vs {
			n += len(v) + 16
		}
	}
	return int64(n)
}
