#!/usr/bin/perl
# The package under a real systemd: boot a Debian 12 container
# (systemd-nspawn) with Redis and PostgreSQL, install the .deb, create the
# role and database as processor(8) says, start the unit, publish records and
# see rows, reload (same master, new workers and evaluator), kill a worker
# (respawned; the evaluator untouched),
# upgrade to a second build (running again on the new package), stop (a
# stopped service stays stopped across a reinstall), purge.
#
# Opt-in (PROCESSOR_TEST_SYSTEMD=1, as scripts/test does as root): it needs
# root, systemd-nspawn (systemd-container) and debootstrap, and the first run
# debootstraps a root file system from the Debian mirror of
# /etc/apt/sources.list*, cached under /var/cache/processor-test/ keyed by
# a hash of its package list (PROCESSOR_TEST_MIRROR overrides the mirror).
# The container boots on a read-only view of the cache with a tmpfs overlay
# (--volatile=overlay), so the cache stays clean; it shares no network with
# the host (--private-network).
use strict;
use warnings;
use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use Fcntl qw(:flock);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(time sleep);

plan skip_all => 'set PROCESSOR_TEST_SYSTEMD=1 to boot a systemd container and test the package in it (root, minutes)'
    unless ($ENV{PROCESSOR_TEST_SYSTEMD} // '') eq '1';
plan skip_all => 'must run as root (debootstrap, systemd-nspawn)' unless $> == 0;
for my $tool (qw(systemd-nspawn debootstrap nsenter dpkg-buildpackage dch)) {
	plan skip_all => "$tool not installed (scripts/deps installs systemd-container, debootstrap, devscripts)"
	    unless system("command -v $tool >/dev/null 2>&1") == 0;
}

my $src = $ENV{PROCESSOR_SRCDIR} // dirname(dirname(abs_path($0)));
my $out = tempdir('processor-nspawn.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $cache = '/var/cache/processor-test';
my $t0 = time;
my @transcript;

# One line of the transcript (printed as it goes, and again at the end).
sub step {
	my $line = sprintf('%6.1fs  %s', time - $t0, join('', @_));
	push @transcript, $line;
	diag($line);
}

sub run {
	my ($cmd) = @_;
	my $output = `$cmd 2>&1`;
	return ($? >> 8, $output);
}

sub slurp {
	open(my $fh, '<', $_[0]) or return '';
	local $/;
	return <$fh> // '';
}

# Poll CODE until it returns true or TIMEOUT seconds pass.
sub wait_for {
	my ($timeout, $code) = @_;
	my $deadline = time + $timeout;
	while (1) {
		my $v = $code->();
		return $v if $v;
		return 0 if time > $deadline;
		sleep 0.2;
	}
}

# --- the cached root file system -------------------------------------------
# Everything the test needs inside, so that nothing is fetched at test time
# (the container has no network): the servers, the runtime libraries the
# package Depends on, systemd itself.
my ($rc, $log);
my @packages = sort qw(systemd systemd-sysv dbus redis-server redis-tools postgresql
    postgresql-client libev4 libhiredis0.14 libinih1 libjansson4 libmicrohttpd12
    libpq5 procps);
my $mirror = $ENV{PROCESSOR_TEST_MIRROR};
unless ($mirror) {
	for my $f (grep { -f } glob('/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources')) {
		for (split /\n/, slurp($f)) {
			($mirror) = m{^\s*deb\s+(?:\[[^]]*\]\s+)?(https?://\S+/debian)/?\s+bookworm\s} unless $mirror;
			($mirror) = m{^\s*URIs:\s*(https?://\S+/debian)/?\s*$}i unless $mirror;
		}
	}
	$mirror //= 'http://deb.debian.org/debian';
}
my $key = substr(sha256_hex(join("\n", 'bookworm', 'minbase', @packages)), 0, 16);
my $root = "$cache/bookworm-$key";
make_path($cache);
{
	open(my $lock, '>', "$cache/.lock") or die "$cache/.lock: $!";
	flock($lock, LOCK_EX) or die "flock: $!";
	if (-e "$root/.complete") {
		step("root file system cached: $root");
	} else {
		my $tmp = "$root.tmp.$$";
		remove_tree($tmp);
		step("debootstrap bookworm from $mirror into $root (first run, minutes)");
		my $t = time;
		($rc, $log) = run("debootstrap --variant=minbase --include=" . join(',', @packages)
		    . " bookworm '$tmp' '$mirror'");
		if ($rc != 0) {
			remove_tree($tmp);
			BAIL_OUT("debootstrap failed:\n" . substr($log, -3000));
		}
		# No apt timers or log rotation racing the test; a known hostname.
		system("chroot '$tmp' systemctl mask apt-daily.timer apt-daily-upgrade.timer "
		    . "e2scrub_all.timer dpkg-db-backup.timer >/dev/null 2>&1");
		open(my $fh, '>', "$tmp/.complete") or die $!;
		close $fh;
		rename($tmp, $root) or die "rename $tmp $root: $!";
		step(sprintf('debootstrap took %.0fs', time - $t));
	}
}

# --- boot (the packages build meanwhile) ----------------------------------
mkdir "$out/$_" for qw(v1 v2);
my $name = "processor-test-$$";
my $nspawn = fork() // die "fork: $!";
if ($nspawn == 0) {
	open(STDIN, '<', '/dev/null');
	open(STDOUT, '>', "$out/console.log");
	open(STDERR, '>&', \*STDOUT);
	exec('systemd-nspawn', '--quiet', '--boot', "--directory=$root", "--machine=$name",
	    '--volatile=overlay', '--private-network', '--register=no', '--keep-unit',
	    "--bind-ro=$out/v1:/mnt/v1", "--bind-ro=$out/v2:/mnt/v2");
	die "exec systemd-nspawn: $!";
}

END {
	local $?;
	if ($nspawn && kill(0, $nspawn)) {
		# SIGTERM makes nspawn power the container off; SIGKILL past 30 s.
		kill 'TERM', $nspawn;
		my $deadline = time + 30;
		while (waitpid($nspawn, WNOHANG) == 0) {
			if (time > $deadline) { kill 'KILL', $nspawn; waitpid($nspawn, 0); last }
			sleep 0.1;
		}
	}
	rmdir("/run/systemd/nspawn/propagate/$name") if $name;
	if (@transcript) {
		diag("transcript:");
		diag($_) for @transcript;
	}
}

# The container's init: the child of nspawn that is pid 1 in its namespace.
sub leader {
	for my $st (glob('/proc/[0-9]*/status')) {
		my $s = slurp($st);
		next unless $s =~ /^PPid:\s+(\d+)$/m;
		my $ppid = $1;
		next unless $ppid == $nspawn || (slurp("/proc/$ppid/status") =~ /^PPid:\s+$nspawn$/m);
		return $1 if $s =~ /^NSpid:\s+(\d+)\s+1$/m;
	}
	return 0;
}
my $leader = wait_for(30, sub { waitpid($nspawn, WNOHANG) == 0 ? leader() : -1 });
if (!$leader || $leader < 0) {
	my $why = slurp("$out/console.log");
	$why =~ s/\s+/ /g;
	$nspawn = 0 if $leader;
	plan skip_all => "systemd-nspawn cannot boot a container here: " . substr($why, -300);
}

# Run a shell command inside the container; returns (exit status, output).
sub c {
	my ($cmd) = @_;
	$cmd =~ s/'/'\\''/g;
	return run("timeout 120 nsenter --target $leader --all --root --wd "
	    . "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 sh -c '$cmd'");
}
sub cout { my (undef, $o) = c(@_); chomp $o; return $o }

# --- the two packages: the tree as it is, and the same with version V+test1 --
($rc, $log) = run("DIST_DIR=$out/v1 '$src/scripts/build-deb' --no-lintian");
is($rc, 0, 'scripts/build-deb builds the package') or BAIL_OUT(substr($log, -3000));
my ($deb1) = glob("$out/v1/processor_*.deb");
my $v1 = `dpkg-deb -f '$deb1' Version`;
chomp $v1;
my $v2 = "$v1+test1";
mkdir "$out/tree";
my $tar = "tar -C '$src' --exclude=./dist --exclude=./build --exclude=./build-asan -cf - .";
if (system("git -C '$src' rev-parse --is-inside-work-tree >/dev/null 2>&1") == 0) {
	my @files = grep { !m{^dist/} && -e "$src/$_" }
	    split /\0/, `git -C '$src' ls-files -z --cached --others --exclude-standard`;
	open(my $lf, '>', "$out/files") or die "$out/files: $!";
	print $lf join("\0", @files), "\0";
	close $lf;
	$tar = "tar -C '$src' --null -T '$out/files' -cf -";
}
($rc, $log) = run("$tar | tar -C '$out/tree' -xf - && cd '$out/tree' && "
    . "DEBFULLNAME='t/910-systemd.t' DEBEMAIL='processor\@racing-telemetry.org' "
    . "dch --changelog packaging/debian/changelog --newversion '$v2' "
    . "--distribution unstable --force-distribution 'Upgrade test build.' && "
    . "DIST_DIR=$out/v2 scripts/build-deb --no-lintian");
is($rc, 0, "the same tree builds as $v2") or BAIL_OUT(substr($log, -3000));
my ($deb2) = glob("$out/v2/processor_*.deb");
unlink glob("$out/v1/*dbgsym*"), glob("$out/v2/*dbgsym*");
step("built processor $v1 and $v2");

($rc, $log) = c('systemctl is-system-running --wait');
is($log, "running\n", "the container's systemd is running")
    or diag($log . cout('systemctl --failed --no-legend'));
step("container $name booted (systemd ", cout('systemctl --version | head -n1'), ')');

sub unit {
	my %u = map { /^(\w+)=(.*)$/ ? ($1, $2) : () }
	    split /\n/, cout('systemctl show -p ActiveState,SubState,MainPID,Result processor.service');
	return \%u;
}
# The master's children: workers and, with the Directus contract tables
# loaded ([domain] evaluators = auto), one evaluator.  processorctl tells
# which is which (consumer "evaluator-N"); pgrep says what is really there.
sub children {
	my ($master) = @_;
	return sort { $a <=> $b } grep { /^\d+$/ } split /\n/, cout("pgrep -P $master");
}
sub slots {
	my $j = eval { JSON::PP::decode_json(cout('processorctl --json workers')) };
	return grep { $_->{pid} } @{$j->{workers} // []};
}
sub pids { return sort { $a <=> $b } map { $_->{pid} } @_ }
sub workers { return pids(grep { $_->{consumer} !~ /^evaluator-/ } slots()) }
sub evaluators { return pids(grep { $_->{consumer} =~ /^evaluator-/ } slots()) }
# Every child is a listed worker or evaluator and the reverse: "@children" eq "@slots".
sub accounted {
	my ($master) = @_;
	return join(' ', children($master)) eq join(' ', pids(slots()));
}
sub rows { return cout(q{runuser -u postgres -- psql -XAtq -d processor -c 'select count(*) from positions'}) }
sub publish {
	my ($from, $n) = @_;
	my $to = $from + $n - 1;
	return c(qq{for i in \$(seq $from $to); do
		redis-cli XADD telemetry:t "*" payload "{\\"device_id\\":\\"35630704244\$((1000 + i % 5))\\",\\"timestamp\\":\\"2026-04-30T12:00:\$(printf %02d \$((i % 60))).\$(printf %03d \$i)Z\\",\\"latitude\\":45.815,\\"longitude\\":15.9819,\\"altitude\\":122,\\"angle\\":270,\\"satellites\\":11,\\"speed\\":87,\\"priority\\":0,\\"event_io_id\\":0,\\"attributes\\":{\\"239\\":1}}" >/dev/null || exit 1
	done});
}

# --- install: enabled, not started ----------------------------------------
($rc, $log) = c('dpkg -i /mnt/v1/processor_*.deb');
is($rc, 0, "dpkg -i processor $v1") or diag($log);
is(cout('systemctl is-enabled processor'), 'enabled', 'the unit is enabled');
is(unit()->{ActiveState}, 'inactive', 'a fresh install leaves it stopped');
step("installed $v1: ", cout('systemctl is-enabled processor'), ', ', unit()->{ActiveState});

# --- PostgreSQL role and database, as processor(8) says (peer auth) ----------
($rc, $log) = c('runuser -u postgres -- createuser processor && runuser -u postgres -- createdb -O processor processor');
is($rc, 0, 'createuser processor; createdb -O processor processor') or diag($log);
($rc, $log) = c('runuser -u processor -- psql -X -q -v ON_ERROR_STOP=1 -d processor '
    . '-f /usr/share/processor/sql/directus/0001_contract.sql '
    . '-f /usr/share/processor/sql/directus/0002_io_mappings_seed.sql');
is($rc, 0, 'the Directus contract loads as role processor (OPERATIONS.md)') or diag($log);

# --- start ---------------------------------------------------------------
($rc, $log) = c('systemctl start processor');
is($rc, 0, 'systemctl start processor') or diag($log . cout('journalctl -u processor -o cat -n 30 --no-pager'));
my $u = unit();
is("$u->{ActiveState}/$u->{SubState}", 'active/running', 'active/running (READY=1 sent)');
my $master = $u->{MainPID};
my (@w, @e);
ok(wait_for(60, sub { @w = workers(); @e = evaluators(); @w && @e == 1 && accounted($master) }),
    'workers and one evaluator are running, and they are all the master\'s children')
    or diag(cout('ps -ef') . "\nworkers @w, evaluators @e, children " . join(' ', children($master)));
cmp_ok(scalar @w, '>=', 1, 'at least one worker');
is(scalar @e, 1, 'one evaluator (the contract tables exist, evaluators = auto)');
step("started: MainPID $master, workers @w, evaluator @e");

($rc, $log) = publish(1, 50);
is($rc, 0, 'published 50 records with redis-cli XADD') or diag($log);
ok(wait_for(60, sub { rows() eq '50' }), '50 rows in positions') or diag('rows: ' . rows());
step('published 50 records; rows in positions: ', rows());

# --- reload: same master, new workers --------------------------------------
($rc, $log) = c('systemctl reload processor');
is($rc, 0, 'systemctl reload processor') or diag($log);
my %old = map { $_ => 1 } @w, @e;
my (@nw, @ne);
ok(wait_for(60, sub { @nw = workers(); @ne = evaluators();
	    @nw == @w && @ne == 1 && !grep({ $old{$_} } @nw, @ne) && accounted($master) }),
    'every worker and the evaluator were replaced') or diag("before @w / @e, now @nw / @ne");
is(unit()->{MainPID}, $master, 'the master stayed (same MainPID)');
is(unit()->{ActiveState}, 'active', 'still active after the reload');
step("reloaded: MainPID $master, workers @w -> @nw, evaluator @e -> @ne");

# --- a worker killed is respawned -------------------------------------------
my $victim = $nw[0];
c("kill -KILL $victim");
my (@rw, @re);
ok(wait_for(30, sub { @rw = workers(); @re = evaluators();
	    @rw == @nw && !grep({ $_ == $victim } @rw) && accounted($master) }),
    "worker $victim killed and respawned") or diag("now @rw");
is("@re", "@ne", 'the evaluator was left alone');
is(unit()->{MainPID}, $master, 'the master stayed');
($rc, $log) = publish(51, 10);
ok(wait_for(60, sub { rows() eq '60' }), 'the respawned workers consume (60 rows)') or diag('rows: ' . rows());
step("killed worker $victim: workers now @rw, evaluator @re; rows ", rows());

# --- upgrade while running: restarted on the new package --------------------
($rc, $log) = c('dpkg -i /mnt/v2/processor_*.deb');
is($rc, 0, "dpkg -i processor $v2 (upgrade)") or diag($log);
is(cout(q{dpkg-query -W -f='${Version}' processor}), $v2, "installed version is $v2");
my $nmaster;
ok(wait_for(60, sub { $u = unit(); $nmaster = $u->{MainPID};
	    "$u->{ActiveState}/$u->{SubState}" eq 'active/running' && $nmaster && $nmaster != $master }),
    'running again after the upgrade, with a new master') or diag(join(' ', %$u));
is(cout("readlink /proc/$nmaster/exe"), '/usr/sbin/processor', 'the master runs the installed binary (not a deleted one)');
step("upgraded to $v2: MainPID $master -> $nmaster, ", unit()->{ActiveState});

# --- stop; a stopped service stays stopped on reinstall ----------------------
($rc, $log) = c('systemctl stop processor');
is($rc, 0, 'systemctl stop processor') or diag($log);
$u = unit();
is("$u->{ActiveState} $u->{Result}", 'inactive success', 'stopped cleanly (Result=success)');
($rc, $log) = c('dpkg -i /mnt/v2/processor_*.deb');
is($rc, 0, "reinstall $v2") or diag($log);
is(unit()->{ActiveState}, 'inactive', 'a stopped service stays stopped across a reinstall');
step("stopped; reinstalled: ", unit()->{ActiveState});

# --- purge ---------------------------------------------------------------
($rc, $log) = c('dpkg --purge processor');
is($rc, 0, 'dpkg --purge processor') or diag($log);
($rc, $log) = c('systemctl cat processor.service');
isnt($rc, 0, 'the unit is gone');
is(cout('pgrep -u processor | wc -l'), '0', 'no process of user processor is left');
ok(!-e "$root/usr/sbin/processor", 'the cached root file system was not touched');
step('purged');

step(sprintf('done in %.0fs', time - $t0));
done_testing();
