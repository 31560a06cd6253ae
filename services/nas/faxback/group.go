package faxback

import (
	"context"
	"errors"
	"fmt"

	"layeh.com/radius"

	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/faxback/fbdata"
)

// groupMembers answers Get-Load-Balance-Group-Members: one User-Name per
// member, or one FB-Account-UUID per member in UUID mode. An account that is
// no group has no members: an empty Accept, as the seed says for an empty group.
func (h *handler) groupMembers(ctx context.Context, q *query) (*radius.Packet, error) {
	g, err := h.identify(ctx, q)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	for _, name := range g.Members {
		m, err := h.accounts.Get(ctx, name)
		if errors.Is(err, fbdata.ErrNotFound) {
			continue // deleted since the group was written: no longer a member
		}
		if err != nil {
			return nil, fmt.Errorf("member %q of %q: %w", name, g.Name, err)
		}
		if h.uuidMode() {
			h.addUUID(r, fbattr.FBAccountUUID_Add, m.UUID)
		} else {
			r.userName(m.Name)
		}
	}
	return r.done()
}
