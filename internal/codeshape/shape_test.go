package codeshape

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The limits (issue 12): lines of a non-test Go file, and lines of a
// function from its "func" to its closing brace.
const (
	maxFileLines = 600
	maxFuncLines = 80
)

// pending are the files and functions over the limits today that are
// being split, as "FILE" or "FILE FUNC". One that is no longer over them
// fails the test until it is taken off: the list only shrinks.
var pending = map[string]bool{}

// problem is one file or function over a limit.
type problem struct {
	key string // "FILE" or "FILE FUNC", as in pending
	msg string
}

// TestShape fails for every non-test, non-generated Go file over
// maxFileLines and every function in one over maxFuncLines, naming each
// with its length so the message says what to split.
func TestShape(t *testing.T) {
	root := moduleRoot(t)
	var problems []problem
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		p, err := checkFile(path, rel)
		problems = append(problems, p...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range problems {
		seen[p.key] = true
		if !pending[p.key] {
			t.Error(p.msg)
		}
	}
	for key := range pending {
		if !seen[key] {
			t.Errorf("%s is within the limits now: take it off pending", key)
		}
	}
}

// checkFile returns the shape problems of one Go file.
func checkFile(path, rel string) ([]problem, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	rel = filepath.ToSlash(rel)
	var problems []problem
	if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
		problems = append(problems, problem{rel, fmt.Sprintf("%s: %d lines, more than %d: split it along its seams", rel, n, maxFileLines)})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		var name string
		switch fn := n.(type) {
		case *ast.FuncDecl:
			name = fn.Name.Name
			if fn.Recv != nil && len(fn.Recv.List) > 0 {
				name = recvName(fn.Recv.List[0].Type) + "." + name
			}
		case *ast.FuncLit:
			name = "func literal"
		default:
			return true
		}
		start, end := fset.Position(n.Pos()), fset.Position(n.End())
		if lines := end.Line - start.Line + 1; lines > maxFuncLines {
			problems = append(problems, problem{rel + " " + name, fmt.Sprintf("%s:%d: %s is %d lines, more than %d", rel, start.Line, name, lines, maxFuncLines)})
		}
		return true
	})
	return problems, nil
}

func recvName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return recvName(x.X)
	case *ast.IndexExpr:
		return recvName(x.X)
	case *ast.IndexListExpr:
		return recvName(x.X)
	case *ast.Ident:
		return x.Name
	}
	return "?"
}

// moduleRoot is the directory of go.mod above this package's directory.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			first, _ := bufio.NewReader(f).ReadString('\n')
			f.Close()
			if strings.HasPrefix(first, "module github.com/drbot-dev/drbot") {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/drbot-dev/drbot above the test's directory")
		}
		dir = parent
	}
}
