#!/bin/bash
# tapird -t: accepts the shipped configuration, rejects broken ones with
# exit 1 and "FILE:LINE: message" on stderr naming the right line.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

tcheck() {
	in_ns env TAPIR_MODULE_DIR="$TAPIR_MODULE_DIR" timeout 10 "$TAPIRD" -t -c "$1" \
		>"$TL_TMP/t.out" 2>"$TL_TMP/t.err"
}

# expect_error DESC FILE LINE [WORD]: exit 1, a "FILE:LINE:" line on stderr
# with a message after it (containing WORD if given).
expect_error() {
	local desc=$1 file=$2 line=$3 word=${4-} rc
	tcheck "$file"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		not_ok "$desc" "tapird -t exit $rc, want 1" "$(cat "$TL_TMP/t.err")"
	elif ! grep -qF "$file:$line: " "$TL_TMP/t.err"; then
		not_ok "$desc" "no '$file:$line: ' line on stderr; stderr:" "$(cat "$TL_TMP/t.err")" \
			"$file:" "$(cat -n "$file")"
	elif [ -n "$word" ] && ! grep -F "$file:$line: " "$TL_TMP/t.err" | grep -qiF -- "$word"; then
		not_ok "$desc" "the $file:$line line does not mention '$word'" "$(cat "$TL_TMP/t.err")"
	else
		ok "$desc"
	fi
}

# Line number of the first line of FILE matching REGEX.
line_of() {
	grep -n -m 1 -- "$2" "$1" | cut -d: -f1
}

shipped=$LAB_ROOT/conf/tapir.conf
if [ ! -r "$shipped" ]; then
	not_ok "tapird -t accepts conf/tapir.conf" "no $shipped"
elif tcheck "$shipped"; then
	ok "tapird -t accepts conf/tapir.conf (exit 0)"
else
	not_ok "tapird -t accepts conf/tapir.conf" "exit $?" "$(cat "$TL_TMP/t.err")"
fi

good=$TL_TMP/good.conf
tl_write_conf "$good"
if tcheck "$good"; then
	ok "tapird -t accepts the test configuration (exit 0)"
else
	not_ok "tapird -t accepts the test configuration" "exit $?" "$(cat "$TL_TMP/t.err")"
fi

# A syntax error: "mtu = = 1500;".
f=$TL_TMP/syntax.conf
tl_write_conf "$f"
n=$(line_of "$f" 'mtu =')
sed -i "${n}s/mtu = /mtu = = /" "$f"
expect_error "syntax error on line $n: exit 1 and '$f:$n:'" "$f" "$n"

# An unknown key: interface.nmae on its own line.
f=$TL_TMP/unknown.conf
tl_write_conf "$f"
n=$(line_of "$f" 'name = "tapir0"')
sed -i "${n}a\\  nmae = \"tapir1\";" "$f"
n=$((n + 1))
expect_error "unknown key interface.nmae on line $n: exit 1, '$f:$n:' naming it" "$f" "$n" nmae

# An unknown key at top level.
f=$TL_TMP/unknown2.conf
tl_write_conf "$f"
printf 'modul_dir = "/tmp";\n' >>"$f"
n=$(wc -l <"$f")
expect_error "unknown top-level key modul_dir on line $n: exit 1, '$f:$n:' naming it" "$f" "$n" modul_dir

# An unknown key inside the echo module's section.
f=$TL_TMP/unknown3.conf
tl_write_conf "$f"
n=$(line_of "$f" 'udp_port =')
sed -i "${n}a\\    udp_prot = 7;" "$f"
n=$((n + 1))
expect_error "unknown echo key udp_prot on line $n: exit 1, '$f:$n:' naming it" "$f" "$n" udp_prot

# A bad value: an address that is not one.
f=$TL_TMP/value.conf
tl_write_conf "$f"
n=$(line_of "$f" 'address = "10.0.0.2/24"')
sed -i "${n}s|10.0.0.2/24|10.0.0.300/24|" "$f"
expect_error "bad interface.address on line $n: exit 1 and '$f:$n:'" "$f" "$n"

# Two errors in one file: both are reported, each with its line.
f=$TL_TMP/two.conf
tl_write_conf "$f"
n1=$(line_of "$f" 'name = "tapir0"')
sed -i "${n1}a\\  nmae = \"tapir1\";" "$f"
n1=$((n1 + 1))
n2=$(line_of "$f" 'mtu =')
sed -i "${n2}s/mtu = [0-9]*/mtu = 20/" "$f"
expect_error "two errors: the unknown key on line $n1 is reported" "$f" "$n1" nmae
expect_error "two errors: the out-of-range mtu on line $n2 is reported too" "$f" "$n2" mtu

# An error in the core settings and one in a module's: both are reported.
f=$TL_TMP/two-module.conf
tl_write_conf "$f"
n1=$(line_of "$f" 'name = "tapir0"')
sed -i "${n1}a\\  nmae = \"tapir1\";" "$f"
n1=$((n1 + 1))
n2=$(line_of "$f" 'udp_port =')
sed -i "${n2}s/udp_port = [0-9]*/udp_port = 70000/" "$f"
expect_error "core and module errors: the unknown key on line $n1 is reported" "$f" "$n1" nmae
expect_error "core and module errors: the echo udp_port = 70000 on line $n2 is reported too" \
	"$f" "$n2" udp_port

# A missing file: exit 1 with a message naming it and the reason, without
# a line number (a file that cannot be read has no line 0).
f=$TL_TMP/does-not-exist.conf
want="cannot read $f: No such file or directory"
tcheck "$f"
rc=$?
if [ "$rc" -eq 1 ] && grep -qxF "$want" "$TL_TMP/t.err" &&
	! grep -qF "$f:0:" "$TL_TMP/t.err"; then
	ok "missing config file (-t): exit 1 and '$want'"
else
	not_ok "missing config file (-t): exit 1 and '$want'" "exit $rc" "$(cat "$TL_TMP/t.err")"
fi
in_ns env -u JOURNAL_STREAM TAPIR_MODULE_DIR="$TAPIR_MODULE_DIR" timeout 10 "$TAPIRD" -f -c "$f" \
	>"$TL_TMP/t.out" 2>"$TL_TMP/t.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qxF "tapird: $want" "$TL_TMP/t.err" &&
	! grep -qF "$f:0:" "$TL_TMP/t.err"; then
	ok "missing config file (-f -c): exit 1 and 'tapird: $want'"
else
	not_ok "missing config file (-f -c): exit 1 and 'tapird: $want'" "exit $rc" \
		"$(cat "$TL_TMP/t.err")"
fi

tl_done
