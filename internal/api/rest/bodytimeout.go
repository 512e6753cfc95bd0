package rest

import (
	"errors"
	"io"
	"net/http"
	"os"
)

// explainBodyTimeout wraps the body of r so that a read cut by the
// connection's read deadline (http.Server.ReadTimeout, which main sets from
// service.http_read_timeout_sec) fails with an error naming that setting,
// and the connection is closed after the answer: the rest of the body may
// still be on its way, so the connection cannot carry another request.
//
// The deadline itself belongs to http.Server. net/http (of the Go release
// go.mod names) clears it once the body has been read, before it watches the
// connection for a client that goes away, so a handler that runs longer
// than the read timeout keeps its context: TestBodyTimeoutSparesSlowHandlers
// holds that.
func explainBodyTimeout(w http.ResponseWriter, r *http.Request) *http.Request {
	if r.Body == nil || r.Body == http.NoBody {
		return r
	}
	wrapped := *r
	wrapped.Body = &timeoutBody{ReadCloser: r.Body, header: w.Header()}
	return &wrapped
}

// timeoutBody is a request body that explains a read deadline.
type timeoutBody struct {
	io.ReadCloser
	header http.Header
}

func (b *timeoutBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.header.Set("Connection", "close")
		err = &bodyTimeoutError{err: err}
	}
	return n, err
}

// bodyTimeoutError is a request that did not arrive in time.
type bodyTimeoutError struct{ err error }

func (e *bodyTimeoutError) Error() string {
	return "request not received within the read timeout (service.http_read_timeout_sec)"
}

func (e *bodyTimeoutError) Unwrap() error { return e.err }
