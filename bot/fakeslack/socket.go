package fakeslack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode: apps.connections.open (with AppToken) answers the URL of
// the server's /socket endpoint, where a Socket Mode client gets "hello",
// then the envelopes a test sends with SendSocket, and WebSocket pings;
// its acknowledgements are recorded and can be waited for with WaitForAck.

type socketState struct {
	mu     sync.Mutex
	conns  []*websocket.Conn
	wmu    map[*websocket.Conn]*sync.Mutex
	acks   map[string]json.RawMessage // envelope id -> payload (null when none)
	next   int
	closed bool
}

func newSocketState() *socketState {
	return &socketState{wmu: map[*websocket.Conn]*sync.Mutex{}, acks: map[string]json.RawMessage{}}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// socketPingInterval is how often the fake pings a Socket Mode client;
// slack-go reconnects when it gets no ping for 30 s.
const socketPingInterval = 2 * time.Second

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	st := s.socket
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		conn.Close()
		return
	}
	wmu := &sync.Mutex{}
	st.conns = append(st.conns, conn)
	st.wmu[conn] = wmu
	st.mu.Unlock()

	write := func(v any) error {
		wmu.Lock()
		defer wmu.Unlock()
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		return conn.WriteJSON(v)
	}
	if err := write(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "AFAKESLACK"}}); err != nil {
		s.dropSocket(conn)
		return
	}
	s.notify()

	done := make(chan struct{})
	go func() {
		t := time.NewTicker(socketPingInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				wmu.Lock()
				err := conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				wmu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	defer close(done)
	defer s.dropSocket(conn)
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		if ack.EnvelopeID == "" {
			continue
		}
		if ack.Payload == nil {
			ack.Payload = json.RawMessage("null")
		}
		st.mu.Lock()
		st.acks[ack.EnvelopeID] = ack.Payload
		st.mu.Unlock()
		s.notify()
	}
}

func (s *Server) dropSocket(conn *websocket.Conn) {
	st := s.socket
	st.mu.Lock()
	for i, c := range st.conns {
		if c == conn {
			st.conns = append(st.conns[:i], st.conns[i+1:]...)
			break
		}
	}
	delete(st.wmu, conn)
	st.mu.Unlock()
	conn.Close()
	s.notify()
}

func (st *socketState) closeAll() {
	st.mu.Lock()
	st.closed = true
	conns := append([]*websocket.Conn(nil), st.conns...)
	st.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// SocketConnections returns how many Socket Mode clients are connected.
func (s *Server) SocketConnections() int {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	return len(s.socket.conns)
}

// Socket Mode envelope types.
const (
	SocketSlashCommands = "slash_commands"
	SocketInteractive   = "interactive"
	SocketEventsAPI     = "events_api"
)

// SendSocket sends an envelope of type typ ("slash_commands",
// "interactive", "events_api") with payload (marshalled to JSON) to the
// newest Socket Mode connection, and returns its envelope id.
func (s *Server) SendSocket(typ string, payload any) (string, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("fakeslack: marshal payload: %w", err)
	}
	st := s.socket
	st.mu.Lock()
	if len(st.conns) == 0 {
		st.mu.Unlock()
		return "", errors.New("fakeslack: no Socket Mode connection")
	}
	conn := st.conns[len(st.conns)-1]
	wmu := st.wmu[conn]
	st.next++
	id := fmt.Sprintf("env-%06d", st.next)
	st.mu.Unlock()

	env := map[string]any{"envelope_id": id, "type": typ, "payload": json.RawMessage(raw), "accepts_response_payload": typ != SocketEventsAPI, "retry_attempt": 0, "retry_reason": ""}
	wmu.Lock()
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err = conn.WriteJSON(env)
	wmu.Unlock()
	if err != nil {
		return "", fmt.Errorf("fakeslack: send envelope: %w", err)
	}
	return id, nil
}

// WaitForAck waits for the acknowledgement of an envelope and returns its
// payload ("null" when it had none).
func (s *Server) WaitForAck(envelopeID string, timeout time.Duration) (json.RawMessage, error) {
	var payload json.RawMessage
	err := s.WaitUntil(timeout, func() bool {
		s.socket.mu.Lock()
		defer s.socket.mu.Unlock()
		p, ok := s.socket.acks[envelopeID]
		payload = p
		return ok
	})
	if err != nil {
		return nil, fmt.Errorf("fakeslack: no ack of %s within %s", envelopeID, timeout)
	}
	return payload, nil
}
