// Package codeshape holds no code: its test keeps the repository's shape
// rules true as code is added. No non-test Go file is over 600 lines and no
// function outside tests is over 80 lines (generated files excepted), so
// that a newcomer can read any file in one sitting and any function on one
// screen. Run it with
//
//	go test ./internal/codeshape
package codeshape
