package fakeslack

// authTestLocked is auth.test: who the token belongs to.
func (s *Server) authTestLocked() answer {
	return ok(map[string]any{"url": "https://fakeslack.example/", "team": "Fake Slack", "user": "drbot", "team_id": TeamID, "user_id": BotUserID, "bot_id": BotID})
}
