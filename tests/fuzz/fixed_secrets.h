/* Fixed stack secrets for the harnesses: an input replays the same way
 * every run (the daemon draws its own from the kernel). */
#ifndef TAPIR_FIXED_SECRETS_H
#define TAPIR_FIXED_SECRETS_H

#include "net/core.h"

static const struct stack_secrets fuzz_secrets = {
	.isn_key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	.cookie_key = {17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
		       31, 32},
	.flow_key = {33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
		     48},
	.ip_id_key = {49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
		      63, 64},
	.frag6_key = {65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78,
		      79, 80},
	.iid_key = {81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
		    96},
};

#endif
