// Package browsertest runs pages in a real headless Chromium for tests
// (chromedp over the DevTools protocol), and reads what tests need from
// what it prints. Tests assert on the DOM and on the PDF, never on pixels.
package browsertest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/drbot-dev/drbot/internal/testenv"
)

// UpdateImages makes the tests that take the README's pictures write them
// under docs/images (go test ./... -run Image -update-images).
var UpdateImages = flag.Bool("update-images", false, "write the README's pictures under docs/images")

// New starts a headless Chromium for t (testenv.Chromium: skipped without
// one outside CI) with a fresh profile, and returns a context for
// chromedp.Run. Everything is stopped when t ends. Each action is bounded
// by the test's context, and the whole browser by a minute.
func New(t testing.TB) context.Context {
	t.Helper()
	bin := testenv.Chromium(t)
	// The profile is not under t.TempDir: Chromium's helper processes may
	// still write to it for a moment after the browser is stopped, which
	// would fail the test's own clean-up.
	profile, err := os.MkdirTemp("", "drbot-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1000, 1200),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelB()
		cancelA()
		cancel()
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	})
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("start chromium %s: %v", bin, err)
	}
	return bctx
}

// pageObj is a page object of a PDF (not /Pages, a node of its page tree).
var pageObj = regexp.MustCompile(`/Type\s*/Page\b`)

// PDFPages counts the pages of a PDF that Chromium printed, by its page
// objects (Chromium writes them uncompressed).
func PDFPages(t testing.TB, pdf []byte) int {
	t.Helper()
	n := len(pageObj.FindAll(pdf, -1))
	if n == 0 {
		t.Fatalf("PDF of %d bytes has no page objects", len(pdf))
	}
	return n
}

// WriteImage writes a picture for the README under docs/images of the
// repository (root is the path from the test's package to the module
// root, such as "..").
func WriteImage(t testing.TB, root, name string, png []byte) {
	t.Helper()
	dir := filepath.Join(root, "docs", "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", filepath.Join(dir, name), len(png))
}
