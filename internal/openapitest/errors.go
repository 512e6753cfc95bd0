package openapitest

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ResponseError is a response body that breaks the contract.
type ResponseError struct {
	Method   string
	Path     string // as given to Validate
	Template string // the spec's path template it matched
	Legacy   bool   // the template comes from the legacy table, not the document
	Status   int
	Response string // the response entry used: "200", "4XX", "default"
	Problems []Problem
}

// Problem is one failed keyword.
type Problem struct {
	// InstanceLocation is the JSON pointer of the offending value in the
	// body; "" is the whole body.
	InstanceLocation string
	// Keyword is the schema keyword that failed: "required", "enum",
	// "type", "additionalProperties", "format", ... ("json" for a body that
	// does not parse).
	Keyword string
	// SchemaLocation is the failing keyword inside the converted document,
	// e.g. "#/components/schemas/CollectionInfo/required".
	SchemaLocation string
	Message        string
}

// maxShown caps the problems printed by Error; all stay in Problems.
const maxShown = 12

func (e *ResponseError) Error() string {
	var sb strings.Builder
	legacy := ""
	if e.Legacy {
		legacy = " (legacy route)"
	}
	fmt.Fprintf(&sb, "%s %s -> %d breaks the Qdrant contract [%s%s, response %q]:",
		e.Method, e.Path, e.Status, e.Template, legacy, e.Response)
	for i, p := range e.Problems {
		if i == maxShown {
			fmt.Fprintf(&sb, "\n  ... and %d more", len(e.Problems)-maxShown)
			break
		}
		sb.WriteString("\n  ")
		sb.WriteString(p.String())
	}
	return sb.String()
}

func (p Problem) String() string {
	s := fmt.Sprintf("at %q: %s", p.InstanceLocation, p.Keyword)
	if p.SchemaLocation != "" {
		s += " (" + p.SchemaLocation + ")"
	}
	return s + ": " + p.Message
}

var printer = message.NewPrinter(language.English)

// problems flattens a validation error tree to its leaves, the keywords that
// actually failed, ordered by instance location.
func problems(ve *jsonschema.ValidationError) []Problem {
	var out []Problem
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		kw := e.ErrorKind.KeywordPath()
		p := Problem{
			InstanceLocation: pointer(e.InstanceLocation),
			SchemaLocation:   schemaLocation(e.SchemaURL, kw),
			Message:          e.ErrorKind.LocalizedString(printer),
		}
		if len(kw) > 0 {
			p.Keyword = kw[0]
		}
		out = append(out, p)
	}
	walk(ve)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.InstanceLocation, b.InstanceLocation),
			cmp.Compare(a.SchemaLocation, b.SchemaLocation))
	})
	return slices.Compact(out)
}

func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return sb.String()
}

// schemaLocation renders a keyword's place relative to the document.
func schemaLocation(schemaURL string, keywordPath []string) string {
	loc := strings.TrimPrefix(schemaURL, baseURL)
	if u, err := url.PathUnescape(loc); err == nil {
		loc = u
	}
	return loc + pointer(keywordPath)
}
