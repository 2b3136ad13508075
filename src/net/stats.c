#include "net/stats.h"

const struct stat_desc stat_descs[STAT_COUNT] = {
#define STAT_DESC(id, layer, name, reason) {layer, name, reason},
	STATS_TABLE(STAT_DESC)
#undef STAT_DESC
};
