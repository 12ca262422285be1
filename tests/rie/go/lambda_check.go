// The AWS SDK for Go v2 as Debian 12 packages it (golang-github-aws-aws-sdk-go-v2-dev:
// aws-sdk-go-v2 1.17.1, service/lambda 1.24.8; built by `make sdk-go` in GOPATH
// mode from /usr/share/gocode, offline, into out/sdk-go/lambda_check) against
// faas-rie: Invoke, its answers parsed by the SDK itself, its errors as the
// SDK's typed exceptions.
//
// This SDK version has no InvokeWithResponseStream (service/lambda 1.24.8
// predates it: there is no api_op_InvokeWithResponseStream.go), so only
// Invoke is checked here; boto3 and the JavaScript SDK check the stream.
//
// argv: the URLs of faas-rie serving examples/context.c, examples/stream.c,
// examples/stream-rs, the fixture (with $DRIP_FILE) and the fixture with a
// 1 s timeout; then the file the fixture's "drip" waits for (unused here).
// Exits non-zero on the first failed check.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

var checks = 0

func version() string {
	return "aws-sdk-go-v2 " + aws.SDKVersion
}

func check(name string, ok bool, detail interface{}) {
	if !ok {
		fmt.Fprintf(os.Stderr, "%s check failed: %s: %s\n", version(), name, show(detail))
		os.Exit(1)
	}
	checks++
}

// show: a detail for a failed check, outputs with their payloads as text.
func show(v interface{}) string {
	switch o := v.(type) {
	case *lambda.InvokeOutput:
		if o == nil {
			return "<nil>"
		}
		rid, _ := awsmiddleware.GetRequestIDMetadata(o.ResultMetadata)
		return fmt.Sprintf("{StatusCode:%d ExecutedVersion:%q FunctionError:%q LogResult:%q Payload:%q RequestId:%q}",
			o.StatusCode, str(o.ExecutedVersion), str(o.FunctionError), str(o.LogResult), o.Payload, rid)
	case error:
		return fmt.Sprintf("%T: %v", o, o)
	}
	return fmt.Sprintf("%#v", v)
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// Dummy static credentials, us-east-1, faas-rie's URL as the endpoint; no
// retries: every invoke runs exactly once, and a 5xx or a dropped
// connection surfaces instead of being retried.
func client(url string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		EndpointResolver: lambda.EndpointResolverFromURL(url),
		Retryer:          aws.NopRetryer{},
	})
}

func invoke(c *lambda.Client, in lambda.InvokeInput) (*lambda.InvokeOutput, error) {
	if in.FunctionName == nil {
		in.FunctionName = aws.String("function")
	}
	return c.Invoke(context.Background(), &in)
}

// ok: an invoke that must succeed (an error fails the check named).
func ok(name string, c *lambda.Client, in lambda.InvokeInput) *lambda.InvokeOutput {
	r, err := invoke(c, in)
	check(name+": no SDK error", err == nil, err)
	return r
}

func requestID(r *lambda.InvokeOutput) string {
	rid, _ := awsmiddleware.GetRequestIDMetadata(r.ResultMetadata)
	return rid
}

func object(name string, b []byte) map[string]interface{} {
	var v map[string]interface{}
	check(name+": a JSON object", json.Unmarshal(b, &v) == nil, string(b))
	return v
}

func unb64(name string, s *string) string {
	check(name+": LogResult present", s != nil, s)
	b, err := base64.StdEncoding.DecodeString(*s)
	check(name+": LogResult is base64", err == nil, *s)
	return string(b)
}

// errRequestID: the request id of a failed call as the SDK saw it.
func errRequestID(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

// httpStatus: the HTTP status of a failed call as the SDK saw it.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func main() {
	if len(os.Args) < 7 {
		fmt.Fprintln(os.Stderr, "usage: lambda_check CTX_URL STREAM_C_URL STREAM_RS_URL FIX_URL FIX1_URL DRIP_FILE")
		os.Exit(2)
	}
	ctx, streamC, streamRs, fix, fix1 := client(os.Args[1]), client(os.Args[2]), client(os.Args[3]), client(os.Args[4]), client(os.Args[5])

	// --- Invoke ---
	r := ok("success", ctx, lambda.InvokeInput{Payload: []byte(`{"a":1}`)})
	body := object("success", r.Payload)
	check("success", r.StatusCode == 200 && str(r.ExecutedVersion) == "$LATEST" && r.FunctionError == nil && r.LogResult == nil, r)
	check("the request id is the function's", body["request_id"] == requestID(r) && len(requestID(r)) == 36 && body["event_bytes"] == 7.0, body)
	n := body["invocations"].(float64)

	r = ok("function error", ctx, lambda.InvokeInput{Payload: []byte(`"fail"`), LogType: types.LogTypeTail})
	check("function error", r.StatusCode == 200 && str(r.FunctionError) == "Unhandled", r)
	want := map[string]interface{}{"errorMessage": "the event asked to fail: \"quotes\", \\ and a\nnewline", "errorType": "Function.AskedToFail", "stackTrace": []interface{}{}}
	check("its error document", reflect.DeepEqual(object("function error", r.Payload), want), string(r.Payload))
	rid := requestID(r)
	tail := unb64("Tail log", r.LogResult)
	check("Tail log", strings.Contains(tail, fmt.Sprintf("invocation %d, request %s", int(n)+1, rid)) &&
		strings.Contains(tail, "START RequestId: "+rid) && strings.Contains(tail, "REPORT RequestId: "+rid), tail)

	cc := map[string]interface{}{"client": map[string]interface{}{"installation_id": "i-1", "app_title": "sdk test"}, "custom": map[string]interface{}{"k": "v"}, "env": map[string]interface{}{"locale": "fr"}}
	ccJSON, _ := json.Marshal(cc)
	r = ok("ClientContext", ctx, lambda.InvokeInput{Payload: []byte("{}"), ClientContext: aws.String(base64.StdEncoding.EncodeToString(ccJSON))})
	body = object("ClientContext", r.Payload)
	got, _ := body["client_context"].(string)
	var gotCC interface{}
	_ = json.Unmarshal([]byte(got), &gotCC)
	check("ClientContext reaches the function", reflect.DeepEqual(gotCC, cc), body)

	// The runtime sees the ARN the caller used, account included.
	r = ok("ARN and Qualifier", ctx, lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:111122223333:function:function"), Qualifier: aws.String("live"), Payload: []byte("{}")})
	body = object("ARN and Qualifier", r.Payload)
	arn, _ := body["function_arn"].(string)
	check("ARN and Qualifier", arn == "arn:aws:lambda:us-east-1:111122223333:function:function:live", body)
	last := body["invocations"].(float64)
	// (This SDK's InvokeInput has no TenantId: it predates it.)

	r = ok("Event", ctx, lambda.InvokeInput{InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"event":1}`)})
	check("Event", r.StatusCode == 202 && len(r.Payload) == 0 && r.FunctionError == nil, r)
	r = ok("DryRun", ctx, lambda.InvokeInput{InvocationType: types.InvocationTypeDryRun, Payload: []byte("{}")})
	check("DryRun", r.StatusCode == 204 && len(r.Payload) == 0, r)
	// One runtime takes jobs oldest first: the Event ran before this invoke,
	// the DryRun never ran.
	r = ok("after Event and DryRun", ctx, lambda.InvokeInput{Payload: []byte("{}")})
	check("the Event ran once, the DryRun not", object("after Event and DryRun", r.Payload)["invocations"] == last+2, r)

	// Service errors: the SDK's own exception types, with their messages
	// (each read from the key the API model gives it) and request ids.
	_, err := invoke(ctx, lambda.InvokeInput{FunctionName: aws.String("nope"), Payload: []byte("{}")})
	var notFound *types.ResourceNotFoundException
	check("unknown function", errors.As(err, &notFound) && httpStatus(err) == 404 &&
		strings.HasPrefix(notFound.ErrorMessage(), "Function not found: arn:aws:lambda:us-east-1:") && strings.HasSuffix(notFound.ErrorMessage(), ":function:nope"), err)
	check("unknown function: its type and request id", str(notFound.Type) == "User" && len(errRequestID(err)) == 36, err)

	big := append(append([]byte(`"`), bytes.Repeat([]byte("a"), 6<<20)...), '"')
	_, err = invoke(ctx, lambda.InvokeInput{Payload: big})
	var tooLarge *types.RequestTooLargeException
	check("too large", errors.As(err, &tooLarge) && httpStatus(err) == 413 && strings.Contains(tooLarge.ErrorMessage(), "Request must be smaller than 6291456 bytes"), err)

	_, err = invoke(ctx, lambda.InvokeInput{Payload: []byte("{}"), ClientContext: aws.String("!!")})
	var badContent *types.InvalidRequestContentException
	check("client context not base64 JSON", errors.As(err, &badContent) && httpStatus(err) == 400 && strings.Contains(badContent.ErrorMessage(), "Client context must be"), err)
	// (The SDK does not check an enum's value: this reaches faas-rie.)
	_, err = invoke(ctx, lambda.InvokeInput{Payload: []byte("{}"), InvocationType: types.InvocationType("Bogus")})
	var badParam *types.InvalidParameterValueException
	check("unknown InvocationType", errors.As(err, &badParam) && httpStatus(err) == 400 && strings.Contains(badParam.ErrorMessage(), "X-Amz-Invocation-Type must be"), err)
	r = ok("none of those ran", ctx, lambda.InvokeInput{Payload: []byte("{}")})
	check("none of those ran", object("none of those ran", r.Payload)["invocations"] == last+3, r)

	// A streaming function called with plain Invoke: all it sent, as one payload.
	r = ok("streaming function, plain Invoke", streamC, lambda.InvokeInput{Payload: []byte(`"plain"`)})
	check("streaming function, plain Invoke", r.StatusCode == 200 && string(r.Payload) == "start\n\"plain\"\nend\n" && r.FunctionError == nil, r)
	// One that fails mid-stream: a function error with its document, and the
	// Tail log, in headers.
	for _, s := range []struct {
		name string
		c    *lambda.Client
	}{{"stream-c", streamC}, {"stream-rs", streamRs}} {
		r = ok(s.name+": mid-stream failure", s.c, lambda.InvokeInput{Payload: []byte(`"fail"`), LogType: types.LogTypeTail})
		doc := map[string]interface{}{}
		if r.FunctionError != nil {
			doc = object(s.name+": mid-stream failure", r.Payload)
		}
		check(s.name+": mid-stream failure, plain Invoke", r.StatusCode == 200 && str(r.FunctionError) == "Unhandled" &&
			doc["errorType"] == "Function.StreamFailed" && doc["errorMessage"] == "failed after the first chunk", r)
		check(s.name+": its Tail log", strings.Contains(unb64(s.name+": its Tail log", r.LogResult), "REPORT RequestId: "+requestID(r)), r)
	}

	// The runtime's own failures: a timeout (the 1 s fixture), a crash.
	r = ok("timeout", fix1, lambda.InvokeInput{Payload: []byte(`"sleep"`)})
	doc := object("timeout", r.Payload)
	msg, _ := doc["errorMessage"].(string)
	check("timeout", r.StatusCode == 200 && str(r.FunctionError) == "Unhandled" && doc["errorType"] == "Sandbox.Timedout" && strings.Contains(msg, "Task timed out after 1.00 seconds"), r)
	r = ok("crash", fix, lambda.InvokeInput{Payload: []byte(`"crash"`)})
	doc = object("crash", r.Payload)
	msg, _ = doc["errorMessage"].(string)
	check("crash", r.StatusCode == 200 && str(r.FunctionError) == "Unhandled" && doc["errorType"] == "Runtime.ExitError" && strings.Contains(msg, "exit status 3"), r)
	// Both come back: the next invoke is answered by a new runtime.
	r = ok("after the timeout", fix1, lambda.InvokeInput{Payload: []byte(`{"again":1}`)})
	check("after the timeout", r.FunctionError == nil && string(r.Payload) == `{"again":1}`, r)
	r = ok("after the crash", fix, lambda.InvokeInput{Payload: []byte(`{"again":2}`)})
	check("after the crash", r.FunctionError == nil && string(r.Payload) == `{"again":2}`, r)

	// Twenty invokes at once from twenty goroutines: each gets its own
	// answer, from the echo fixture and from context.c (whose answer names
	// the request id the SDK read from the headers).
	const many = 20
	type answer struct {
		r   *lambda.InvokeOutput
		err error
	}
	concurrently := func(c *lambda.Client, payload func(i int) []byte) []answer {
		out := make([]answer, many)
		var wg sync.WaitGroup
		for i := 0; i < many; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				out[i].r, out[i].err = invoke(c, lambda.InvokeInput{Payload: payload(i)})
			}(i)
		}
		wg.Wait()
		return out
	}
	echo := func(i int) []byte { return []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", i*1000))) }
	answers := concurrently(fix, echo)
	ids := map[string]bool{}
	for i, a := range answers {
		check(fmt.Sprintf("concurrent echo %d", i), a.err == nil && a.r.StatusCode == 200 && a.r.FunctionError == nil && bytes.Equal(a.r.Payload, echo(i)), a)
		ids[requestID(a.r)] = true
	}
	check("20 concurrent echoes: 20 request ids", len(ids) == many, ids)
	answers = concurrently(ctx, func(i int) []byte { return []byte(fmt.Sprintf(`{"n":%d}`, i)) })
	seen := map[float64]bool{}
	for i, a := range answers {
		check(fmt.Sprintf("concurrent context %d", i), a.err == nil && a.r.StatusCode == 200 && a.r.FunctionError == nil, a)
		b := object("concurrent context", a.r.Payload)
		check(fmt.Sprintf("concurrent context %d: its own answer", i), b["request_id"] == requestID(a.r) && b["event_bytes"] == float64(len(fmt.Sprintf(`{"n":%d}`, i))), b)
		seen[b["invocations"].(float64)] = true
	}
	check("20 concurrent invokes: each ran once", len(seen) == many, seen)

	fmt.Printf("%s, Go %s: %d checks passed\n", version(), runtime.Version(), checks)
}
