#!/usr/bin/perl
# Package test: build the .deb, install it, check what it ships, purge it.
#
# Opt-in: it installs a system package (needs root) and takes minutes, so it
# runs only with PROCESSOR_TEST_PACKAGE=1, as root, on a machine where the
# package is not already installed.  Otherwise it skips with the reason.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'set PROCESSOR_TEST_PACKAGE=1 to build and install the .deb (slow, changes the system)'
    unless ($ENV{PROCESSOR_TEST_PACKAGE} // '') eq '1';
plan skip_all => 'must run as root (dpkg -i / --purge)' unless $> == 0;
for my $tool (qw(dpkg-buildpackage dpkg apt-get man)) {
	plan skip_all => "$tool not installed"
	    unless system("command -v $tool >/dev/null 2>&1") == 0;
}
plan skip_all => 'package processor is already installed here; not touching it'
    if `dpkg-query -W -f='\${Status}' processor 2>/dev/null` =~ /installed/;

my $src = $ENV{PROCESSOR_SRCDIR} // dirname(dirname(abs_path($0)));
my $out = tempdir('processor-deb.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $conf = '/etc/processor/processor.conf';
my $unit = '/lib/systemd/system/processor.service';

# Run a shell command, return (exit status, combined output).
sub run {
	my ($cmd) = @_;
	my $output = `$cmd 2>&1`;
	return ($? >> 8, $output);
}

# --- build ---------------------------------------------------------------
my ($rc, $log) = run("DIST_DIR=$out '$src/scripts/build-deb' --install-deps");
is($rc, 0, 'scripts/build-deb succeeds (lintian: no errors)')
    or diag(substr($log, -4000));
my ($deb) = glob("$out/processor_*.deb");
ok(defined $deb && -f $deb, 'a processor_*.deb was produced')
    or BAIL_OUT('no package to install');
diag("built " . (split m{/}, $deb)[-1]);

# --- install (apt resolves the runtime libraries from Depends) -------------
($rc, $log) = run("DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends '$deb'");
is($rc, 0, 'the package installs') or diag($log);

# Whatever fails below, do not leave the package on the machine.
END {
	local $?;	# keep Test::More's exit status
	if ($deb && `dpkg-query -W -f='\${Status}' processor 2>/dev/null` =~ /installed/) {
		system('dpkg --purge processor >/dev/null 2>&1');
	}
}

# --- binaries ------------------------------------------------------------
ok(-x '/usr/sbin/processor', '/usr/sbin/processor is installed');
($rc, $log) = run('/usr/sbin/processor -V');
is($rc, 0, 'processor -V exits 0');
like($log, qr/\d+\.\d+/, 'processor -V prints a version') or diag($log);
($rc, $log) = run('/usr/sbin/processor -n -c /nonexistent/processor.conf');
is($rc, 78, 'processor -n with a missing config file exits 78 (EX_CONFIG)') or diag($log);

SKIP: {
	skip 'processorctl is not built yet', 1 unless -e '/usr/bin/processorctl';
	($rc, $log) = run('/usr/bin/processorctl --help');
	is($rc, 0, 'processorctl --help exits 0') or diag($log);
}

# --- man pages -----------------------------------------------------------
for my $page (qw(processor processor-position processor-schema)) {
	($rc, $log) = run("man -w $page");
	is($rc, 0, "man -w $page finds the page") or diag($log);
}

# --- configuration: a conffile, root:processor 0640 -----------------------
ok(-f $conf, "$conf is installed");
like(`dpkg-query -W -f='\${Conffiles}' processor`, qr{^\s*\Q$conf\E\s}m,
    "$conf is a conffile");
my @st = stat($conf);
is(sprintf('%04o', $st[2] & 07777), '0640', "$conf has mode 0640");
is(scalar getgrgid($st[5] // -1), 'processor', "$conf belongs to group processor");

# --- system user ---------------------------------------------------------
my @pw = getpwnam('processor');
ok(@pw, 'system user processor exists');
ok(@pw && $pw[2] < 1000, 'processor is a system uid') or diag("uid $pw[2]");
like($pw[8] // '', qr{nologin|/bin/false}, 'processor has no login shell');
ok(defined getgrnam('processor'), 'group processor exists');

# --- systemd unit: installed, valid, enabled, not started -----------------
ok(-f $unit, "$unit is installed");
SKIP: {
	skip 'systemd-analyze not installed', 1
	    unless system('command -v systemd-analyze >/dev/null 2>&1') == 0;
	($rc, $log) = run("systemd-analyze verify --man=no $unit");
	is($rc, 0, 'systemd-analyze verify accepts the unit') or diag($log);
}
ok(-l '/etc/systemd/system/multi-user.target.wants/processor.service',
    'the unit is enabled (multi-user.target.wants)');
ok(-f '/usr/lib/sysusers.d/processor.conf', 'sysusers.d file is installed');

# --- schema files --------------------------------------------------------
ok(-f '/usr/share/processor/sql/0001_positions.sql', 'migrations are installed');

# --- purge ---------------------------------------------------------------
($rc, $log) = run('dpkg --purge processor');
is($rc, 0, 'dpkg --purge succeeds') or diag($log);
ok(!-e '/usr/sbin/processor', 'binary removed');
ok(!-e $conf, 'conffile removed on purge');
ok(!-e '/etc/systemd/system/multi-user.target.wants/processor.service',
    'enablement symlink removed on purge');
($rc) = run("dpkg-statoverride --list $conf");
isnt($rc, 0, 'statoverride removed on purge');
ok(defined getpwnam('processor'), 'system user kept on purge (Debian practice)');

done_testing();
