// The Go peer of bench/shell.py: a minimal custom-runtime bootstrap for bash handlers, standard
// library only. Per invocation: GET next (kept-alive net/http client), run
// `bash -c 'source "$1" && "$2"' bootstrap FILE FUNCTION` with the event on stdin, POST its stdout
// as the response (or an error when bash exits non-zero). What a Go bootstrap costs is the
// comparison the shell runtime's bench makes: no timeout or size handling beyond that.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	handler := os.Getenv("_HANDLER")
	dot := strings.LastIndex(handler, ".")
	if dot < 0 {
		fmt.Fprintln(os.Stderr, "_HANDLER must be file.function")
		os.Exit(1)
	}
	root := os.Getenv("LAMBDA_TASK_ROOT")
	file := filepath.Join(root, handler[:dot]+".sh")
	function := handler[dot+1:]
	client := &http.Client{}
	for {
		next, err := client.Get(api + "/invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		event, _ := io.ReadAll(next.Body)
		next.Body.Close()
		id := next.Header.Get("Lambda-Runtime-Aws-Request-Id")
		os.Setenv("_X_AMZN_TRACE_ID", next.Header.Get("Lambda-Runtime-Trace-Id"))
		cmd := exec.Command("bash", "-c", `source "$1" && "$2"`, "bootstrap", file, function)
		cmd.Dir = root
		cmd.Stdin = bytes.NewReader(event)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		url, body := api+"/invocation/"+id+"/response", out
		if err != nil {
			url = api + "/invocation/" + id + "/error"
			body = []byte(fmt.Sprintf(`{"errorMessage":%q,"errorType":"Runtime.HandlerError"}`, err.Error()))
		}
		reply, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(io.Discard, reply.Body)
		reply.Body.Close()
	}
}
