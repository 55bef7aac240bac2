// Package all links every dialect into a binary; import it for its side
// effect of registering them.
package all

import (
	_ "github.com/tokengate/tokengate/dialects/acceleration"
	_ "github.com/tokengate/tokengate/dialects/accounda"
	_ "github.com/tokengate/tokengate/dialects/declared"
	_ "github.com/tokengate/tokengate/dialects/errorid"
	_ "github.com/tokengate/tokengate/dialects/hurdlr"
	_ "github.com/tokengate/tokengate/dialects/oauth2"
)
