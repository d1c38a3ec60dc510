package fakeslack

import (
	"encoding/json"
)

func (s *Server) viewsOpenLocked(body []byte) answer {
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.View) == 0 {
		return fail("invalid_arguments")
	}
	if req.TriggerID == "" {
		return fail("invalid_trigger_id")
	}
	var view struct {
		Type  string         `json:"type"`
		Title map[string]any `json:"title"`
	}
	if err := json.Unmarshal(req.View, &view); err != nil || view.Type != "modal" || view.Title == nil {
		return fail("invalid_arguments")
	}
	if !s.noValidation {
		if code := checkView(req.View); code != "" {
			return fail(code)
		}
	}
	s.views = append(s.views, req.View)
	id := s.idLocked("V")
	return ok(map[string]any{"view": map[string]any{"id": id, "type": "modal"}})
}
