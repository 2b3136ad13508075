/* Path MTU: see pmtu.h. */
#include "net/pmtu.h"
#include "net/core.h"

static struct pmtu_entry *pmtu_find(struct stack *s, const union inany *dst)
{
	for (unsigned i = 0; i < PMTU_ENTRIES; i++)
		if (s->pmtu[i].mtu && inany_eq(&s->pmtu[i].dst, dst))
			return &s->pmtu[i];
	return NULL;
}

unsigned pmtu_get(struct stack *s, const union inany *dst)
{
	struct pmtu_entry *e;

	if (!s->pmtu_used)
		return s->p.mtu;
	e = pmtu_find(s, dst);
	if (!e)
		return s->p.mtu;
	if (stack_now(s) - e->updated >= PMTU_AGE_MS || e->mtu >= s->p.mtu) {
		e->mtu = 0;
		s->pmtu_used--;
		return s->p.mtu;
	}
	return e->mtu;
}

unsigned pmtu_update(struct stack *s, const union inany *dst, uint32_t mtu)
{
	unsigned floor = inany_is_v4(dst) ? PMTU_MIN4 : PMTU_MIN6;
	unsigned cur = pmtu_get(s, dst);
	struct pmtu_entry *e;

	if (mtu < floor)
		mtu = floor;
	if (mtu >= cur)
		return cur; /* only ever lowered by a report */
	e = pmtu_find(s, dst);
	if (!e) {
		struct pmtu_entry *old = &s->pmtu[0];

		for (unsigned i = 0; i < PMTU_ENTRIES && !e; i++)
			if (!s->pmtu[i].mtu)
				e = &s->pmtu[i];
			else if (s->pmtu[i].updated < old->updated)
				old = &s->pmtu[i];
		if (!e)
			e = old;
		else
			s->pmtu_used++;
	}
	e->dst = *dst;
	e->mtu = mtu;
	e->updated = stack_now(s);
	s->pmtu_gen++;
	STAT_INC(&s->stats, PMTU_LOWERED);
	return mtu;
}
