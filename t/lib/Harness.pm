# Integration-test harness: throwaway redis-server, PostgreSQL and processor, cleaned up at exit.
package Harness;

=head1 NAME

Harness - throwaway servers and helpers for processor's integration tests

=head1 SYNOPSIS

    use Test::More;
    use FindBin;
    use lib "$FindBin::Bin/lib";
    use Harness;

    Harness::need(qw(redis pg));
    my $r  = Harness::Redis->start;
    my $pg = Harness::Pg->start;
    my $p  = Harness::Processor->start(redis => $r, pg => $pg,
        config => { processor => { workers => 2 } });
    ok($p->wait_ready(30), 'processor ready');
    my $sum = Harness::gen(redis => $r, n => 10_000, devices => 20);
    ok(wait_until(sub { $pg->psql('select count(*) from positions') == $sum->{valid} },
        timeout => 60, desc => 'all rows landed'), 'all rows landed');
    is($p->stop, 0, 'clean exit');
    done_testing;

Everything started is registered and torn down at exit (also on die, INT and TERM).
The temp root is removed when every test passed, kept (and its path printed) otherwise,
with the tails of the server and daemon logs printed via diag.

=cut

use strict;
use warnings;
use Test::More ();	# load first, so our END runs before Test::Builder's
use Cwd qw(abs_path);
use Errno qw(ESRCH EPERM);
use Exporter qw(import);
use Fcntl qw(O_CREAT O_EXCL O_WRONLY);
use File::Basename qw(dirname);
use File::Path qw(rmtree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(WNOHANG WIFEXITED WEXITSTATUS WIFSIGNALED WTERMSIG);
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use Time::HiRes qw(time sleep);

our @EXPORT = qw(wait_until free_port);
our @EXPORT_OK = qw(tmproot tmpdir run_cmd need gen srcdir builddir);

our $OWNER_PID = $$;
our $PG_USER = $ENV{PROCESSOR_TEST_PG_USER} // 'processor-test';
our @LIVE;		# objects with a _cleanup method, in start order
my $ROOT;		# temp root of this test file
my $ROOT_SEQ = 0;
my %PORT_LOCKS;		# port => lock file we own
my $KEEP;		# set by keep() or on failure
my $CLEANED;

=head1 FUNCTIONS

=over

=item wait_until(CODE, timeout => 30, desc => '', interval => 0.05, quiet => 0)

Calls CODE every interval seconds until it returns true or the deadline passes.
Returns CODE's true value, or false (and a diag naming desc, unless quiet) on timeout.

=cut

sub wait_until
{
	my ($code, %o) = @_;
	my $timeout = $o{timeout} // 30;
	my $interval = $o{interval} // 0.05;
	my $deadline = time + $timeout;

	while (1) {
		my $v = $code->();
		return $v if $v;
		last if time >= $deadline;
		sleep $interval;
	}
	return 0 if $o{quiet};
	Test::More::diag(sprintf('wait_until: gave up after %.1fs%s', $timeout,
	    defined $o{desc} ? ": $o{desc}" : ''));
	return 0;
}

=item srcdir(), builddir()

Absolute source and build directories ($PROCESSOR_SRCDIR, $PROCESSOR_BUILDDIR; both default
to the directory above t/).

=cut

sub srcdir
{
	return $ENV{PROCESSOR_SRCDIR} // abs_path(dirname(__FILE__) . '/../..');
}

sub builddir
{
	return $ENV{PROCESSOR_BUILDDIR} // srcdir();
}

=item tmproot()

This test file's temp root (under $TMPDIR or /tmp), created on first use, mode 0711 so the
unprivileged PostgreSQL user can reach its own directory inside.

=cut

sub tmproot
{
	return $ROOT if defined $ROOT;
	my $base = $ENV{TMPDIR} && -d $ENV{TMPDIR} ? $ENV{TMPDIR} : '/tmp';
	(my $name = $0) =~ s{.*/}{};
	$name =~ s/[^A-Za-z0-9_.-]//g;
	$ROOT = tempdir("processor-test-$name-XXXXXX", DIR => $base, CLEANUP => 0);
	chmod 0711, $ROOT;
	return $ROOT;
}

=item tmpdir(PREFIX)

A new directory PREFIX-N inside the temp root.

=cut

sub tmpdir
{
	my ($prefix) = @_;
	my $d = tmproot() . '/' . ($prefix // 'tmp') . '-' . ++$ROOT_SEQ;
	mkdir $d, 0700 or die "mkdir $d: $!";
	return $d;
}

=item keep()

Keep the temp root even if every test passed.

=cut

sub keep
{
	$KEEP = 1;
}

=item free_port()

A free loopback TCP port, reserved for this test file: a lock file under
$TMPDIR/processor-test-ports (stale locks of dead pids are taken over) plus a bind test
on 127.0.0.1, as PostgreSQL's Cluster.pm get_free_port does.  Ports come from
15000-32000, below Linux's ephemeral range, so outgoing connections do not race us.

=cut

sub free_port
{
	my $base = ($ENV{TMPDIR} && -d $ENV{TMPDIR} ? $ENV{TMPDIR} : '/tmp') . '/processor-test-ports';
	chmod 01777, $base if mkdir $base;
	for (1 .. 2000) {
		my $port = 15000 + int(rand(17000));
		next if $PORT_LOCKS{$port};
		my $lock = "$base/$port.lock";
		next unless _take_lock($lock);
		if (_can_bind($port)) {
			$PORT_LOCKS{$port} = $lock;
			return $port;
		}
		unlink $lock;
	}
	die "free_port: no free port found\n";
}

sub _take_lock
{
	my ($lock) = @_;
	for (1 .. 2) {
		if (sysopen(my $fh, $lock, O_CREAT | O_EXCL | O_WRONLY, 0644)) {
			print $fh "$$\n";
			close $fh;
			return 1;
		}
		open(my $fh, '<', $lock) or next;	# vanished: retry
		my $pid = <$fh> // '';
		close $fh;
		chomp $pid;
		return 0 if $pid =~ /^\d+$/ && pid_alive($pid);
		unlink $lock;	# stale (owner gone or garbage): take it over
	}
	return 0;
}

sub _can_bind
{
	my ($port) = @_;
	for my $addr ('127.0.0.1', '0.0.0.0') {
		my $s = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port,
		    Proto => 'tcp', Listen => 1, ReuseAddr => 1) or return 0;
		close $s;
	}
	return 1;
}

=item pid_alive(PID)

True if PID exists and is not a zombie.

=cut

sub pid_alive
{
	my ($pid) = @_;
	return 0 unless $pid && $pid > 0;
	return 0 unless kill(0, $pid) || $! == EPERM;
	return proc_state($pid) ne 'Z';
}

=item proc_state(PID), proc_ppid(PID), proc_pgid(PID)

Fields of /proc/PID/stat ('' / undef when gone).

=cut

sub _stat
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return;
	my $s = <$fh> // '';
	close $fh;
	$s =~ s/^.*\)\s+// or return;	# comm may hold spaces and parens
	return split /\s+/, $s;	# state ppid pgrp session ...
}

sub proc_state { my @f = _stat($_[0]); return $f[0] // '' }
sub proc_ppid { my @f = _stat($_[0]); return $f[1] }
sub proc_pgid { my @f = _stat($_[0]); return $f[2] }

=item children_of(PID), descendants_of(PID), group_members(PGID)

Live pids whose parent is PID; the whole live subtree below PID; live members of a process group.

=cut

sub _all_pids
{
	opendir(my $d, '/proc') or return ();
	my @p = grep { /^\d+$/ } readdir $d;
	closedir $d;
	return @p;
}

sub children_of
{
	my ($pid) = @_;
	return grep { my @f = _stat($_); @f && $f[1] == $pid && $f[0] ne 'Z' } _all_pids();
}

sub descendants_of
{
	my ($pid) = @_;
	my %kids;
	for my $p (_all_pids()) {
		my @f = _stat($p);
		push @{$kids{$f[1]}}, $p if @f && $f[0] ne 'Z';
	}
	my @out;
	my @todo = ($pid);
	while (defined(my $p = shift @todo)) {
		for my $k (@{$kids{$p} // []}) {
			push @out, $k;
			push @todo, $k;
		}
	}
	return @out;
}

sub group_members
{
	my ($pgid) = @_;
	return grep { my @f = _stat($_); @f && $f[2] == $pgid && $f[0] ne 'Z' } _all_pids();
}

=item wait_pid_gone(PID, TIMEOUT)

Waits until PID is gone (reaping it if it is our child).  Returns the raw wait status
for a child, 0 for a non-child that vanished, undef on timeout.

=cut

sub wait_pid_gone
{
	my ($pid, $timeout) = @_;
	my $deadline = time + ($timeout // 30);
	while (1) {
		my $r = waitpid($pid, WNOHANG);
		return $? if $r == $pid;
		return 0 if $r == -1 && !pid_alive($pid);
		return undef if time >= $deadline;
		sleep 0.02;
	}
}

=item decode_status(STATUS)

Wait status -> exit code, or 128+signal when killed by a signal.

=cut

sub decode_status
{
	my ($st) = @_;
	return undef unless defined $st;
	return WEXITSTATUS($st) if WIFEXITED($st);
	return 128 + WTERMSIG($st) if WIFSIGNALED($st);
	return $st;
}

# prctl(PR_SET_PDEATHSIG, SIGKILL) in a forked child, so a SIGKILLed test leaves no orphan.
sub _pdeathsig
{
	my %nr = (x86_64 => 157, aarch64 => 167, i686 => 172, i386 => 172);
	my $arch = (POSIX::uname())[4];
	syscall($nr{$arch}, 1, 9) if $nr{$arch};
}

=item spawn(cmd => [...], log => FILE, env => {...}, cwd => DIR, pgrp => 1, pdeathsig => 1)

Fork and exec CMD (no shell) with stdin from /dev/null and stdout+stderr appended to LOG.
With pgrp the child leads a new process group (so INT on the terminal reaches only us, and
the whole group can be killed at cleanup).  Returns the pid.

=cut

sub spawn
{
	my (%o) = @_;
	my @cmd = @{$o{cmd}};
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	return $pid if $pid;
	eval {
		setpgrp(0, 0) if $o{pgrp};
		_pdeathsig() if $o{pdeathsig} // 1;
		$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE);
		open(STDIN, '<', '/dev/null') or die;
		if ($o{log}) {
			open(STDOUT, '>>', $o{log}) or die "open $o{log}: $!";
		}
		open(STDERR, '>&', \*STDOUT) or die;
		chdir $o{cwd} or die "chdir $o{cwd}: $!" if $o{cwd};
		while (my ($k, $v) = each %{$o{env} // {}}) {
			if (defined $v) { $ENV{$k} = $v } else { delete $ENV{$k} }
		}
		exec { $cmd[0] } @cmd or die "exec $cmd[0]: $!\n";
	};
	print STDERR "spawn: $@";
	POSIX::_exit(127);
}

=item run_cmd([CMD...], stdin => STRING, timeout => 60, env => {...})

Runs CMD (no shell) to completion.  Returns (exit code, stdout, stderr); exit code is
128+signal when killed, and -1 when the timeout killed it.

=cut

sub run_cmd
{
	my ($cmd, %o) = @_;
	my $dir = tmproot();
	my $tag = "$dir/.cmd-$$-" . int(rand(1e9));
	open(my $in, '>', "$tag.in") or die "$tag.in: $!";
	print $in $o{stdin} // '';
	close $in;
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if (!$pid) {
		$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE);
		open(STDIN, '<', "$tag.in") or POSIX::_exit(126);
		open(STDOUT, '>', "$tag.out") or POSIX::_exit(126);
		open(STDERR, '>', "$tag.err") or POSIX::_exit(126);
		while (my ($k, $v) = each %{$o{env} // {}}) {
			if (defined $v) { $ENV{$k} = $v } else { delete $ENV{$k} }
		}
		{ no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
		print STDERR "exec $cmd->[0]: $!\n";
		POSIX::_exit(127);
	}
	my $st = wait_pid_gone($pid, $o{timeout} // 60);
	my $rc;
	if (!defined $st) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
		$rc = -1;
	} else {
		$rc = decode_status($st);
	}
	my ($out, $err) = (slurp("$tag.out"), slurp("$tag.err"));
	unlink "$tag.in", "$tag.out", "$tag.err";
	$err .= "\n(timed out after $o{timeout}s)" if $rc == -1;
	return ($rc, $out, $err);
}

=item slurp(FILE), tail(FILE, N)

File contents ('' if missing); its last N lines (default 40).

=cut

sub slurp
{
	my ($f) = @_;
	open(my $fh, '<', $f) or return '';
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s // '';
}

sub tail
{
	my ($f, $n) = @_;
	my @l = split /\n/, slurp($f);
	$n //= 40;
	splice(@l, 0, @l - $n) if @l > $n;
	return join("\n", @l);
}

=item migration_checksum(FILE), shipped_migrations(), migration_files()

A migration file's checksum as the master records it (FNV-1a 64,
src/master/migrate_files.c; t/unit/core.c pins a value); the released migrations,
file name => checksum, from t/migrations.shipped; the migration files of the source
tree's sql/, sorted (the names the master applies: NNNN_name.sql).

=cut

sub migration_checksum
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!\n";
	local $/;
	my $data = <$fh> // '';
	# h = (h ^ byte) * (2^40 + 0x1b3) mod 2^64, in two 32-bit halves: no overflow
	my ($hi, $lo) = (0xcbf29ce4, 0x84222325);
	for my $c (unpack('C*', $data)) {
		$lo ^= $c;
		my $l = $lo * 0x1b3;
		my $h = $hi * 0x1b3 + ($l >> 32) + (($lo << 8) & 0xffffffff);
		($hi, $lo) = ($h & 0xffffffff, $l & 0xffffffff);
	}
	return sprintf('fnv1a64:%08x%08x', $hi, $lo);
}

sub shipped_migrations
{
	my %m;
	for (split /\n/, slurp(srcdir() . '/t/migrations.shipped')) {
		next if /^\s*(#|$)/;
		my ($name, $sum) = split;
		$m{$name} = $sum;
	}
	return \%m;
}

sub migration_files
{
	my $dir = srcdir() . '/sql';
	opendir(my $dh, $dir) or die "$dir: $!\n";
	my @f = sort grep { /^\d{4}_.*\.sql$/ } readdir $dh;
	closedir $dh;
	return @f;
}

=item which(NAME)

Absolute path of NAME on PATH (and in /usr/lib/postgresql/*/bin), or undef.

=cut

sub which
{
	my ($name) = @_;
	my @dirs = split /:/, $ENV{PATH} // '/usr/bin:/bin';
	push @dirs, reverse sort glob('/usr/lib/postgresql/*/bin');
	for my $d (@dirs) {
		return "$d/$name" if -x "$d/$name" && !-d _;
	}
	return undef;
}

=item pg_bindir()

Directory with initdb/pg_ctl/postgres: $PG_BINDIR, else the one holding initdb on PATH, else
the newest /usr/lib/postgresql/*/bin.

=cut

sub pg_bindir
{
	return $ENV{PG_BINDIR} if $ENV{PG_BINDIR};
	my $initdb = which('initdb') or return undef;
	return dirname($initdb);
}

=item need(WHAT...)

Skips the whole test file (plan skip_all) unless each of WHAT is usable:
redis (redis-server >= 6.2, for XAUTOCLAIM, and redis-cli), pg (initdb, pg_ctl, psql),
processor (the built daemon), gen (the built tools/gen), timescale (TimescaleDB can be
preloaded: timescale_available()).

=cut

=item Harness::stack(ready => SECONDS, redis => {...}, pg => {...}, OPTION => ...)

The preamble of most tests in one call: need(redis pg processor), then a Redis
(Harness::Redis->start with the redis options), a PostgreSQL (pg options) and a processor
wired to both (every other OPTION goes to Harness::Processor->start: config, env, notify,
expect_critical...), and one ok() that it became ready within ready seconds (default 60;
BAIL_OUT when it did not).  Returns ($redis, $pg, $processor).  ready => 0 starts no
processor and returns ($redis, $pg).

=cut

sub stack
{
	my (%o) = @_;
	need(qw(redis pg processor));
	my $r = Harness::Redis->start(%{delete $o{redis} // {}});
	my $pg = Harness::Pg->start(%{delete $o{pg} // {}});
	my $ready = delete $o{ready};
	return ($r, $pg) if defined $ready && !$ready;
	my $p = Harness::Processor->start(redis => $r, pg => $pg, %o);
	Test::More::ok($p->wait_ready($ready // 60), 'processor ready')
	    or Test::More::BAIL_OUT('processor did not become ready');
	return ($r, $pg, $p);
}

sub need
{
	my @why;
	for my $w (@_) {
		if ($w eq 'redis') {
			my $srv = which('redis-server');
			if (!$srv || !which('redis-cli')) {
				push @why, 'redis-server/redis-cli not installed';
				next;
			}
			my (undef, $v) = run_cmd([$srv, '--version'], timeout => 10);
			my ($maj, $min) = $v =~ /v=(\d+)\.(\d+)/;
			push @why, "redis-server too old ($v)"
			    unless defined $maj && ($maj > 6 || ($maj == 6 && $min >= 2));
		} elsif ($w eq 'pg') {
			my $b = pg_bindir();
			push @why, 'PostgreSQL server binaries not found'
			    unless $b && -x "$b/pg_ctl" && -x "$b/postgres";
			push @why, 'psql not installed' unless which('psql');
		} elsif ($w eq 'processor') {
			push @why, 'src/processor not built' unless -x builddir() . '/src/processor';
		} elsif ($w eq 'fault') {
			my $bin = builddir() . '/src/processor';
			my (undef, $v) = -x $bin ? run_cmd([$bin, '-V'], timeout => 10) : (0, '');
			push @why, 'built without --enable-fault-injection'
			    unless ($v // '') =~ /fault injection/;
		} elsif ($w eq 'racesim') {
			push @why, 'tools/racesim/racesim not built'
			    unless -x builddir() . '/tools/racesim/racesim';
		} elsif ($w eq 'gen') {
			push @why, 'tools/gen not built' unless -x builddir() . '/tools/gen';
		} elsif ($w eq 'timescale') {
			my ($ok, $why) = timescale_available();
			push @why, $why unless $ok;
		} else {
			die "need: unknown requirement '$w'";
		}
	}
	Test::More::plan(skip_all => join('; ', @why)) if @why;
	return 1;
}

=item timescale_env()

True when $PROCESSOR_TEST_TIMESCALE asks every cluster to preload TimescaleDB (1, yes, on,
true).

=cut

sub timescale_env
{
	return ($ENV{PROCESSOR_TEST_TIMESCALE} // '') =~ /^\s*(1|yes|on|true)\s*$/i ? 1 : 0;
}

=item timescale_available()

Whether a cluster can preload TimescaleDB: its control file in `pg_config --sharedir`/extension
and timescaledb.so in `pg_config --pkglibdir` (pg_config of pg_bindir()).  When missing and
we are root, scripts/build-timescaledb builds it from the vendored tarball (cached under the
build tree, about a minute the first time; one build at a time across test files) and
installs it.  In list context returns (OK, REASON); REASON says why not, for a skip message.
The answer is cached per process.

=cut

my $TS_AVAILABLE;

sub timescale_available
{
	$TS_AVAILABLE //= [_timescale_probe()];
	return wantarray ? @$TS_AVAILABLE : $TS_AVAILABLE->[0];
}

sub _timescale_files
{
	my ($pgc) = @_;
	my ($rc1, $share) = run_cmd([$pgc, '--sharedir'], timeout => 20);
	my ($rc2, $lib) = run_cmd([$pgc, '--pkglibdir'], timeout => 20);
	return () if $rc1 || $rc2;
	chomp($share, $lib);
	my $control = "$share/extension/timescaledb.control";
	return ($control, "$lib/timescaledb.so", -f $control && -f "$lib/timescaledb.so");
}

sub _timescale_probe
{
	my $bin = pg_bindir() or return (0, 'PostgreSQL server binaries not found');
	my $pgc = -x "$bin/pg_config" ? "$bin/pg_config" : which('pg_config');
	return (0, "pg_config not found (for PostgreSQL in $bin)") unless $pgc;
	my ($control, $so, $ok) = _timescale_files($pgc);
	return (0, "$pgc failed") unless defined $control;
	return (1, '') if $ok;
	return (0, "TimescaleDB not installed ($control missing) and not root to install it "
	    . '(as root: scripts/build-timescaledb)') if $> != 0;
	my $script = srcdir() . '/scripts/build-timescaledb';
	return (0, "TimescaleDB not installed ($control missing) and $script not found")
	    unless -x $script;
	my $lockf = '/tmp/processor-test-timescaledb.lock';
	open(my $lk, '>>', $lockf) or return (0, "$lockf: $!");
	flock($lk, Fcntl::LOCK_EX());
	($control, $so, $ok) = _timescale_files($pgc);	# another test file may have built it
	if (!$ok) {
		Test::More::diag("building TimescaleDB with $script (once; cached under "
		    . builddir() . '/timescaledb)');
		my ($rc, $out, $err) = run_cmd([$script, builddir()], timeout => 1200,
		    env => { PG_CONFIG => $pgc });
		($control, $so, $ok) = _timescale_files($pgc);
		if (!$ok) {
			close $lk;
			$err =~ s/\s+\z//;
			return (0, "TimescaleDB not installed and $script failed (rc $rc): "
			    . ((split /\n/, $err)[-1] // 'no message'));
		}
	}
	close $lk;
	return (1, '');
}

=item gen(redis => OBJ | url => URL, n => N, devices => D, seed => S, rate => R,
base_ms => T, poison => K, passes => P, stream => KEY, pipeline => B, shape => compact|realistic)

Runs tools/gen (shape: gen -k, compact unless given) and returns its summary line decoded (published, valid, poison, devices,
duplicates, first_ts, last_ts, poison_kinds, ...).  Dies if gen fails.

=cut

my %GEN_FLAG = (stream => '-s', n => '-n', devices => '-d', seed => '-S', rate => '-r',
    base_ms => '-t', poison => '-p', passes => '-D', pipeline => '-B', shape => '-k');

# The flags that decide which records gen writes (not where or how fast): what gen -o needs
# to write the same records again.
sub gen_content_flags
{
	my (%o) = @_;
	return map { defined $o{$_} && $_ ne 'rate' && $_ ne 'stream'
	    ? ($GEN_FLAG{$_}, $o{$_}) : () } sort keys %GEN_FLAG;
}

sub gen
{
	my (%o) = @_;
	my $url = $o{url} // ($o{redis} ? $o{redis}->url : die "gen: redis or url needed\n");
	my @cmd = (builddir() . '/tools/gen', '-q', '-u', $url);
	for my $k (sort keys %GEN_FLAG) {
		push @cmd, $GEN_FLAG{$k}, $o{$k} if defined $o{$k};
	}
	my ($rc, $out, $err) = run_cmd(\@cmd, timeout => $o{timeout} // 600);
	die "gen failed (rc $rc): $err\n" if $rc != 0;
	my ($line) = grep { /^\{/ } split /\n/, $out;
	die "gen printed no summary: $out\n" unless $line;
	my $sum = JSON::PP::decode_json($line);
	$sum->{_gen_args} = [gen_content_flags(%o)];
	$sum->{_stream} = $o{stream} // 'telemetry:t';
	return $sum;
}

=item register(OBJ)

Adds OBJ (with a _cleanup(FAILED) method) to the cleanup list.  The starters call it.

=cut

sub register
{
	my ($obj) = @_;
	push @LIVE, $obj;
	return $obj;
}

sub failed
{
	my $tb = Test::More->builder;
	return !$tb->is_passing;
}

# Tear everything down, newest first.  $failed decides whether logs are printed and the
# temp root kept.
sub cleanup_all
{
	my ($failed) = @_;
	return if $$ != $OWNER_PID || $CLEANED;
	$CLEANED = 1;
	local $?;
	local $@;
	for my $obj (reverse @LIVE) {
		eval { $obj->_cleanup($failed) };
		Test::More::diag("cleanup of " . ref($obj) . " failed: $@") if $@;
		$failed ||= failed();	# a cleanup check may have failed a test
	}
	@LIVE = ();
	unlink values %PORT_LOCKS;
	%PORT_LOCKS = ();
	return unless defined $ROOT;
	if ($failed || $KEEP) {
		Test::More::diag("kept temp dir $ROOT");
	} else {
		rmtree($ROOT);
	}
}

sub _on_signal
{
	my ($sig) = @_;
	Test::More::diag("caught SIG$sig, cleaning up");
	cleanup_all(1);
	$SIG{$sig} = 'DEFAULT';
	kill $sig, $$;
	exit 128;
}

$SIG{INT} = \&_on_signal;
$SIG{TERM} = \&_on_signal;
$SIG{HUP} = \&_on_signal;
# If prove goes away, writing TAP must not kill us before END has stopped the servers: with
# SIGPIPE ignored the write fails and the test runs on to its cleanup.  spawn and run_cmd
# restore the default for the programs they start.
$SIG{PIPE} = 'IGNORE';

END {
	if ($$ == $OWNER_PID) {
		my $failed = $? != 0 || failed();
		cleanup_all($failed);
	}
}

=back

=cut

require Harness::Redis;
require Harness::Pg;
require Harness::Processor;
require Harness::Expect;

1;
