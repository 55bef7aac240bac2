package config_test

import (
	"errors"
	"testing"

	"github.com/tokengate/tokengate/config"
)

// FuzzParse feeds arbitrary files to config.Parse: it never panics and
// returns exactly one of a valid config, a *ValidationError listing at
// least one problem, or another (syntax) error with a message.
func FuzzParse(f *testing.F) {
	f.Add(config.DefaultYAML())
	f.Add([]byte(""))
	f.Add([]byte("dialects:\n  oauth2: {}\n"))
	f.Add([]byte("dialects:\n  errorid: {working_hours: \"Mon-Fri 08:00-18:00\"}\n"))
	f.Add([]byte("limits:\n  read_timeout: 15\n"))
	f.Add([]byte("clients:\n  - client_id: x\n    client_secret: y\n    grants: [password]\n    redirect_uris: [relative/path]\n"))
	f.Add([]byte("listen: [\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data, fuzzCatalog{})
		if err == nil {
			if c == nil {
				t.Fatal("nil config without an error")
			}
			if verr := config.Validate(c, fuzzCatalog{}); verr != nil {
				t.Fatalf("Parse returned a config that does not validate: %v", verr)
			}
			_ = c.EnabledDialects()
			_ = c.UsesDemoCredentials()
			return
		}
		if c != nil {
			t.Fatalf("config and error together: %v", err)
		}
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			if len(ve.Problems) == 0 {
				t.Fatal("ValidationError without problems")
			}
			return
		}
		if err.Error() == "" {
			t.Fatal("error without a message")
		}
	})
}

// fuzzCatalog knows the built-in dialect types and finds no problem in
// their options (the dialects' own tests cover those).
type fuzzCatalog struct{}

func (fuzzCatalog) Types() []string {
	return []string{"acceleration", "accounda", "errorid", "hurdlr", "oauth2"}
}

func (c fuzzCatalog) DefaultTypes() []string { return c.Types() }

func (fuzzCatalog) CheckDialects(*config.Config) []string { return nil }
