package incident

import "context"

// SendReview sends the contact-list review reminder to the plan's review
// owners now, at userID's request ("/incident review").
//
// The review itself (the reminder, Confirm / Needs changes, overdue
// notices) belongs to the scheduling work, which replaces this method;
// until then it says so rather than pretending to have sent anything.
func (s *Service) SendReview(ctx context.Context, userID string) error {
	return Errorf(EINVALID, "Sending the contact-list review from Slack is not available yet in this version of drbot.")
}
