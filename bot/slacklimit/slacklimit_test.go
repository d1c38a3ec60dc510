package slacklimit

import "testing"

func TestLenCountsCodePoints(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{{"abc", 3}, {"&amp;", 5}, {"🔥", 1}, {"שלום", 4}, {"é", 1}} {
		if got := Len(c.s); got != c.want {
			t.Errorf("Len(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}

// BlockText counts every string of the blocks but their types and
// styles, as sent: escapes count in full.
func TestBlockText(t *testing.T) {
	blocks := `[{"type":"section","text":{"type":"mrkdwn","text":"a &amp; 🔥"}},
		{"type":"actions","elements":[{"type":"button","style":"primary","action_id":"drbot-0","value":"ack|1|x","text":{"type":"plain_text","text":"Go"}}]}]`
	if got, want := BlockText([]byte(blocks)), len("a &amp; ")+1+len("drbot-0")+len("ack|1|x")+len("Go"); got != want {
		t.Errorf("BlockText = %d, want %d", got, want)
	}
	if got := BlockText([]byte("[{")); got != 0 {
		t.Errorf("BlockText of bad JSON = %d", got)
	}
}
