/*
 * Published data between modules (pubsub.c, host API version 3): limits,
 * ownership, replacement, watch replay and notifications, removal by owner,
 * and the re-entrancy rules for callbacks.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/pubsub.h"

static int owner_a, owner_b; /* their addresses are the owners */

struct seen {
	int calls, removals;
	char key[TAPIR_KEY_MAX + 1];
	char value[64];
	size_t len;
	/* What the callback does besides recording. */
	struct pubsub *ps;
	struct tapir_watch *unwatch_me;
	int publish_rc;
	const char *publish_topic;
};

static void record(void *arg, const char *topic, const char *key,
		   const void *value, size_t len)
{
	struct seen *s = arg;

	(void)topic;
	s->calls++;
	snprintf(s->key, sizeof(s->key), "%s", key);
	if (!value) {
		s->removals++;
		s->value[0] = 0;
	} else {
		snprintf(s->value, sizeof(s->value), "%.*s", (int)len,
			 (const char *)value);
	}
	s->len = len;
	if (s->unwatch_me) {
		pubsub_unwatch(s->unwatch_me);
		s->unwatch_me = NULL;
	}
	if (s->publish_topic)
		s->publish_rc = pubsub_publish(s->ps, &owner_b,
					       s->publish_topic, "x", "y", 1);
}

START_TEST(test_publish_lookup_replace)
{
	struct pubsub *ps = pubsub_new();
	const char *v;
	size_t len = 99;

	ck_assert_ptr_nonnull(ps);
	ck_assert_ptr_null(pubsub_lookup(ps, "t", "k", &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", "abc", 3), 0);
	v = pubsub_lookup(ps, "t", "k", &len);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(v, "abc"); /* a NUL follows the copy */
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", "de", 2), 0);
	v = pubsub_lookup(ps, "t", "k", &len);
	ck_assert_uint_eq(len, 2);
	ck_assert_str_eq(v, "de");
	ck_assert_uint_eq(pubsub_entries(ps), 1);
	/* Same key, other topic: another entry. */
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "u", "k", "z", 1), 0);
	ck_assert_uint_eq(pubsub_entries(ps), 2);
	ck_assert_str_eq(pubsub_lookup(ps, "u", "k", &len), "z");
	/* Empty value is a value, not a removal. */
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "u", "e", "", 0), 0);
	ck_assert_ptr_nonnull(pubsub_lookup(ps, "u", "e", &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(pubsub_unpublish(ps, &owner_a, "t", "k"), 0);
	ck_assert_ptr_null(pubsub_lookup(ps, "t", "k", &len));
	ck_assert_uint_eq(pubsub_entries(ps), 2);
	/* Absent: a no-op. */
	ck_assert_int_eq(pubsub_unpublish(ps, &owner_a, "t", "k"), 0);
	pubsub_free(ps);
}
END_TEST

START_TEST(test_limits)
{
	struct pubsub *ps = pubsub_new();
	char topic[TAPIR_TOPIC_MAX + 2], key[TAPIR_KEY_MAX + 2];
	static char big[TAPIR_VALUE_MAX + 1];

	memset(topic, 't', sizeof(topic) - 1);
	topic[sizeof(topic) - 1] = 0;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = 0;
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, topic, "k", "v", 1),
			 -EINVAL);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", key, "v", 1),
			 -EINVAL);
	topic[TAPIR_TOPIC_MAX] = 0; /* exactly the maximum */
	key[TAPIR_KEY_MAX] = 0;
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, topic, key, "v", 1), 0);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "", "k", "v", 1),
			 -EINVAL);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "", "v", 1),
			 -EINVAL);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", NULL, 1),
			 -EINVAL);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", big,
					TAPIR_VALUE_MAX + 1),
			 -E2BIG);
	ck_assert_int_eq(
		pubsub_publish(ps, &owner_a, "t", "k", big, TAPIR_VALUE_MAX),
		0);
	ck_assert_ptr_null(pubsub_watch(ps, &owner_a, "", record, NULL));
	ck_assert_int_eq(errno, EINVAL);
	pubsub_free(ps);
}
END_TEST

START_TEST(test_entry_cap)
{
	struct pubsub *ps = pubsub_new();
	char key[16];

	for (unsigned i = 0; i < TAPIR_ENTRIES_MAX; i++) {
		snprintf(key, sizeof(key), "%u", i);
		ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", key, "v", 1),
				 0);
	}
	ck_assert_uint_eq(pubsub_entries(ps), TAPIR_ENTRIES_MAX);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "new", "v", 1),
			 -ENOSPC);
	/* Replacing an existing one still works at the cap. */
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "7", "w", 1), 0);
	ck_assert_str_eq(pubsub_lookup(ps, "t", "7", NULL), "w");
	/* Every entry is still found after the table grew. */
	for (unsigned i = 0; i < TAPIR_ENTRIES_MAX; i += 997) {
		snprintf(key, sizeof(key), "%u", i);
		ck_assert_ptr_nonnull(pubsub_lookup(ps, "t", key, NULL));
	}
	pubsub_drop_owner(ps, &owner_a);
	ck_assert_uint_eq(pubsub_entries(ps), 0);
	pubsub_free(ps);
}
END_TEST

START_TEST(test_watch_cap)
{
	struct pubsub *ps = pubsub_new();
	struct seen s = {0};

	for (unsigned i = 0; i < TAPIR_WATCHES_MAX; i++)
		ck_assert_ptr_nonnull(
			pubsub_watch(ps, &owner_a, "t", record, &s));
	ck_assert_ptr_null(pubsub_watch(ps, &owner_a, "t", record, &s));
	ck_assert_int_eq(errno, ENOSPC);
	pubsub_drop_owner(ps, &owner_a);
	ck_assert_uint_eq(pubsub_watches(ps), 0);
	ck_assert_ptr_nonnull(pubsub_watch(ps, &owner_b, "t", record, &s));
	pubsub_free(ps);
}
END_TEST

START_TEST(test_ownership)
{
	struct pubsub *ps = pubsub_new();

	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", "a", 1), 0);
	ck_assert_int_eq(pubsub_publish(ps, &owner_b, "t", "k", "b", 1),
			 -EPERM);
	ck_assert_int_eq(pubsub_unpublish(ps, &owner_b, "t", "k"), -EPERM);
	ck_assert_str_eq(pubsub_lookup(ps, "t", "k", NULL), "a");
	pubsub_free(ps);
}
END_TEST

START_TEST(test_watch_replays_and_follows)
{
	struct pubsub *ps = pubsub_new();
	struct seen s = {0}, other = {0};
	struct tapir_watch *w;

	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k1", "one", 3), 0);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "u", "k9", "nine", 4),
			 0);
	w = pubsub_watch(ps, &owner_b, "t", record, &s);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(s.calls, 1); /* only topic t's entry */
	ck_assert_str_eq(s.key, "k1");
	ck_assert_str_eq(s.value, "one");
	ck_assert_ptr_nonnull(pubsub_watch(ps, &owner_b, "u", record, &other));
	ck_assert_int_eq(other.calls, 1);
	/* New entry, replacement, removal: each told once, in order. */
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k2", "two", 3), 0);
	ck_assert_int_eq(s.calls, 2);
	ck_assert_str_eq(s.key, "k2");
	ck_assert_str_eq(s.value, "two");
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k2", "2", 1), 0);
	ck_assert_int_eq(s.calls, 3);
	ck_assert_str_eq(s.value, "2");
	ck_assert_int_eq(pubsub_unpublish(ps, &owner_a, "t", "k1"), 0);
	ck_assert_int_eq(s.calls, 4);
	ck_assert_int_eq(s.removals, 1);
	ck_assert_str_eq(s.key, "k1");
	ck_assert_int_eq(other.calls, 1); /* topic u saw none of it */
	/* The watcher's own publishes are told too. */
	ck_assert_int_eq(pubsub_publish(ps, &owner_b, "t", "k3", "b", 1), 0);
	ck_assert_int_eq(s.calls, 5);
	pubsub_unwatch(w);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k4", "x", 1), 0);
	ck_assert_int_eq(s.calls, 5);
	pubsub_free(ps);
}
END_TEST

START_TEST(test_drop_owner_tells_others)
{
	struct pubsub *ps = pubsub_new();
	struct seen sa = {0}, sb = {0};

	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "a1", "x", 1), 0);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "a2", "x", 1), 0);
	ck_assert_int_eq(pubsub_publish(ps, &owner_b, "t", "b1", "x", 1), 0);
	ck_assert_ptr_nonnull(pubsub_watch(ps, &owner_a, "t", record, &sa));
	ck_assert_ptr_nonnull(pubsub_watch(ps, &owner_b, "t", record, &sb));
	sa.calls = sb.calls = 0;
	pubsub_drop_owner(ps, &owner_a);
	/* A's watch went first: A is told nothing; B sees two removals. */
	ck_assert_int_eq(sa.calls, 0);
	ck_assert_int_eq(sb.calls, 2);
	ck_assert_int_eq(sb.removals, 2);
	ck_assert_uint_eq(pubsub_entries(ps), 1);
	ck_assert_uint_eq(pubsub_watches(ps), 1);
	ck_assert_ptr_nonnull(pubsub_lookup(ps, "t", "b1", NULL));
	ck_assert_ptr_null(pubsub_lookup(ps, "t", "a1", NULL));
	/* A's keys are free for anyone now. */
	ck_assert_int_eq(pubsub_publish(ps, &owner_b, "t", "a1", "y", 1), 0);
	pubsub_free(ps);
}
END_TEST

START_TEST(test_no_recursion)
{
	struct pubsub *ps = pubsub_new();
	struct seen s = {0};

	s.ps = ps;
	s.publish_topic = "t"; /* publish to the topic being told: refused */
	s.publish_rc = 1;
	ck_assert_ptr_nonnull(pubsub_watch(ps, &owner_b, "t", record, &s));
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", "v", 1), 0);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(s.publish_rc, -EBUSY);
	ck_assert_ptr_null(pubsub_lookup(ps, "t", "x", NULL));
	/* Another topic is fine from a callback. */
	s.publish_topic = "other";
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", "w", 1), 0);
	ck_assert_int_eq(s.publish_rc, 0);
	ck_assert_str_eq(pubsub_lookup(ps, "other", "x", NULL), "y");
	/* While watch() replays entries nothing may change. */
	s.publish_topic = "third";
	s.publish_rc = 1;
	ck_assert_ptr_nonnull(pubsub_watch(ps, &owner_b, "t", record, &s));
	ck_assert_int_eq(s.publish_rc, -EBUSY);
	ck_assert_ptr_null(pubsub_lookup(ps, "third", "x", NULL));
	pubsub_free(ps);
}
END_TEST

START_TEST(test_unwatch_inside_callback)
{
	struct pubsub *ps = pubsub_new();
	struct seen s1 = {0}, s2 = {0};
	struct tapir_watch *w1, *w2;

	w1 = pubsub_watch(ps, &owner_b, "t", record, &s1);
	w2 = pubsub_watch(ps, &owner_b, "t", record, &s2);
	ck_assert_ptr_nonnull(w1);
	ck_assert_ptr_nonnull(w2);
	/* w2 is first in the list (newest); it removes w1 mid-notify. */
	s2.unwatch_me = w1;
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", "v", 1), 0);
	ck_assert_int_eq(s2.calls, 1);
	ck_assert_int_eq(s1.calls, 0); /* dead before its turn */
	ck_assert_uint_eq(pubsub_watches(ps), 1);
	/* And a watch removing itself. */
	s2.unwatch_me = w2;
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", "w", 1), 0);
	ck_assert_int_eq(s2.calls, 2);
	ck_assert_uint_eq(pubsub_watches(ps), 0);
	ck_assert_int_eq(pubsub_publish(ps, &owner_a, "t", "k", "x", 1), 0);
	ck_assert_int_eq(s2.calls, 2);
	pubsub_free(ps);
}
END_TEST

static Suite *pubsub_suite(void)
{
	Suite *su = suite_create("pubsub");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_publish_lookup_replace);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_entry_cap);
	tcase_add_test(tc, test_watch_cap);
	tcase_add_test(tc, test_ownership);
	tcase_add_test(tc, test_watch_replays_and_follows);
	tcase_add_test(tc, test_drop_owner_tells_others);
	tcase_add_test(tc, test_no_recursion);
	tcase_add_test(tc, test_unwatch_inside_callback);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(pubsub_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
