package spec

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/tokengate/tokengate/core"
)

// FuzzParse: no input panics the parser, and whatever it accepts renders
// valid JSON for every JSON answer, with values present or absent.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	for _, file := range specFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x\nroutes: [{operation: static, path: /a, response: {body: {a: \"{now?}\", b: [\"{base_url}\"]}}}]\nerrors: {body: {e: \"{code}\"}, default: {status: 500, code: x}}\n"))
	full, empty := values, Values{}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		var out Output
		for _, v := range []Values{full, empty} {
			for _, rt := range s.Routes {
				for _, resp := range []*Response{rt.Response, rt.Inactive} {
					if resp == nil {
						continue
					}
					vv := v
					resp.Render(&out, "application/json", &vv)
					if out.ContentType == "application/json" && !json.Valid(out.Body) {
						t.Fatalf("invalid JSON %q from\n%s", out.Body, data)
					}
				}
			}
			a := s.Errors.Describe(core.MissingParam("client_id"), "")
			vv := v
			s.Errors.Render(&out, "application/json", &a, &vv)
			if out.ContentType == "application/json" && !json.Valid(out.Body) {
				t.Fatalf("invalid error JSON %q from\n%s", out.Body, data)
			}
		}
	})
}
