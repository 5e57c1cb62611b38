#!/usr/bin/perl
# Package test: build the .deb, install it, check what it ships, upgrade it
# to a second build with a higher version, purge it.
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
my @lintian = grep { /^[EW]: processor/ } split /\n/, $log;
is(scalar @lintian, 0, 'lintian: no errors, no warnings') or diag(join("\n", @lintian));
my ($deb) = glob("$out/processor_*.deb");
ok(defined $deb && -f $deb, 'a processor_*.deb was produced')
    or BAIL_OUT('no package to install');
diag("built " . (split m{/}, $deb)[-1]);
my $v1 = `dpkg-deb -f '$deb' Version`;
chomp $v1;

# The same tree with a higher version (a new changelog entry in a scratch
# copy, never in the repository), for the upgrade below.
my $v2 = "$v1+test1";
my $copy = "$out/tree";
mkdir $copy or die "mkdir $copy: $!";
# Copy what build-deb would take: git-known files (uncommitted work too), or
# the whole tree of a release tarball.
my $tar = "tar -C '$src' --exclude=./dist --exclude=./build --exclude=./build-asan -cf - .";
if (system("git -C '$src' rev-parse --is-inside-work-tree >/dev/null 2>&1") == 0) {
	my @files = grep { !m{^dist/} && -e "$src/$_" }
	    split /\0/, `git -C '$src' ls-files -z --cached --others --exclude-standard`;
	open(my $lf, '>', "$out/files") or die "$out/files: $!";
	print $lf join("\0", @files), "\0";
	close $lf;
	$tar = "tar -C '$src' --null -T '$out/files' -cf -";
}
($rc, $log) = run("$tar | tar -C '$copy' -xf - && cd '$copy' && "
    . "DEBFULLNAME='t/900-package.t' DEBEMAIL='processor\@racing-telemetry.org' "
    . "dch --changelog packaging/debian/changelog --newversion '$v2' "
    . "--distribution unstable --force-distribution 'Upgrade test build.'");
is($rc, 0, "a scratch copy of the tree with changelog version $v2") or diag($log);
($rc, $log) = run("DIST_DIR=$out/v2 '$copy/scripts/build-deb' --no-lintian");
is($rc, 0, "scripts/build-deb builds $v2") or diag(substr($log, -4000));
my ($deb2) = glob("$out/v2/processor_*.deb");
ok(defined $deb2 && `dpkg-deb -f '$deb2' Version` eq "$v2\n", "a processor_$v2 .deb was produced");

# Restart-after-upgrade in the generated maintainer scripts (the behaviour
# under a running systemd is t/910-systemd.t's).
my $ctl = "$out/control";
($rc, $log) = run("dpkg-deb -e '$deb' '$ctl'");
is($rc, 0, 'dpkg-deb -e extracts the maintainer scripts') or diag($log);
my $postinst = do { local (@ARGV, $/) = "$ctl/postinst"; <> } // '';
like($postinst, qr/if \[ -n "\$2" \]; then\s+deb-systemd-invoke try-restart 'processor\.service'/,
    'postinst try-restarts the unit on upgrade and reinstall');
unlike($postinst, qr/deb-systemd-invoke (?:start|restart)\b/, 'postinst never starts it on first install');
my $prerm = do { local (@ARGV, $/) = "$ctl/prerm"; <> } // '';
unlike($prerm, qr/#DEBHELPER#|^\s*deb-systemd-invoke stop 'processor\.service'/m,
    'prerm has no unconditional stop (debhelper\'s stop-before-upgrade snippet)');
ok(!-e "$ctl/preinst" || `cat '$ctl/preinst'` !~ /deb-systemd-invoke stop/,
    'preinst does not stop the unit before an upgrade');

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
ok(-f '/usr/share/processor/sql/directus/0001_contract.sql', 'the Directus contract DDL is installed');
for my $f (qw(processor.rules.yml processor-dashboard.json)) {
	ok(-f "/usr/share/processor/monitoring/$f", "monitoring/$f is installed");
}

# --- bash completion -----------------------------------------------------
my $compl = '/usr/share/bash-completion/completions/processorctl';
ok(-f $compl, "$compl is installed");
like(`dpkg -L processor`, qr{^\Q$compl\E$}m, 'and belongs to the package');
SKIP: {
	skip 'bash-completion not installed', 1
	    unless -f '/usr/share/bash-completion/bash_completion';
	# what bash-completion does on the first <TAB> after "processorctl "
	($rc, $log) = run(q{bash -c '. /usr/share/bash-completion/bash_completion; } .
	    q{__load_completion processorctl && complete -p processorctl'});
	like($log, qr/-F _processorctl processorctl/, 'bash-completion loads it by name')
	    or diag($log);
}

# --- licence -------------------------------------------------------------
my $copyright = do { local (@ARGV, $/) = '/usr/share/doc/processor/copyright'; <> } // '';
like($copyright, qr{^Format: https://www\.debian\.org/doc/packaging-manuals/copyright-format/1\.0/}m,
    'copyright is machine-readable (DEP-5)');
like($copyright, qr/^License: ISC$/m, 'copyright says ISC');
unlike(`dpkg-query -W -f='\${Maintainer}' processor`, qr/example\.(?:org|com|net)/,
    'the maintainer is not a placeholder');

# --- maintainer scripts under a (pretend) running systemd ------------------
# Run the installed prerm/postinst in a private mount namespace where
# /run/systemd/system exists, with deb-systemd-invoke, deb-systemd-helper,
# systemctl and systemd-sysusers replaced by stubs that log their arguments.
SKIP: {
	skip 'unshare not available', 4 unless system('command -v unshare >/dev/null 2>&1') == 0;
	my $stub = "$out/stub";
	mkdir $stub;
	for my $cmd (qw(deb-systemd-invoke deb-systemd-helper systemctl systemd-sysusers)) {
		open(my $fh, '>', "$stub/$cmd") or die "$stub/$cmd: $!";
		print $fh "#!/bin/sh\necho \"$cmd \$*\" >>'$out/calls'\n";
		close $fh;
		chmod 0755, "$stub/$cmd";
	}
	my $maint = sub {
		my ($script, @args) = @_;
		unlink "$out/calls";
		my ($r, $l) = run("unshare -m sh -c 'mount -t tmpfs none /run && mkdir -p /run/systemd/system && "
		    . "PATH=$stub:\$PATH sh /var/lib/dpkg/info/processor.$script @args'");
		diag("processor.$script @args: $l") if $r;
		my $calls = do { local (@ARGV, $/) = "$out/calls"; -e "$out/calls" ? <> : '' };
		return $calls;
	};
	my $calls = $maint->('prerm', 'upgrade', $v2);
	unlike($calls, qr/deb-systemd-invoke stop/, 'prerm upgrade: the unit keeps running') or diag($calls);
	$calls = $maint->('postinst', 'configure', $v1);
	like($calls, qr/^deb-systemd-invoke try-restart processor\.service$/m,
	    'postinst configure OLDVERSION: try-restart') or diag($calls);
	$calls = $maint->('postinst', 'configure');
	unlike($calls, qr/deb-systemd-invoke/, 'postinst configure (first install): not started') or diag($calls);
	$calls = $maint->('prerm', 'remove');
	like($calls, qr/^deb-systemd-invoke stop processor\.service$/m, 'prerm remove: stopped')
	    or diag($calls);
}

# --- upgrade to the second build -----------------------------------------
# A local edit of the conffile must survive (the packaged file is unchanged).
open(my $cfh, '>>', $conf) or die "$conf: $!";
print $cfh "; local edit kept across upgrades (t/900-package.t)\n";
close $cfh;
my $dpkglog_before = -s '/var/log/dpkg.log' // 0;
($rc, $log) = run("DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
    . "-o Dpkg::Options::=--force-confold '$deb2'");
is($rc, 0, "upgrade to $v2 succeeds") or diag($log);
is(`dpkg-query -W -f='\${Version} \${Status}' processor`, "$v2 install ok installed",
    "the installed version is now $v2");
like($log, qr/Unpacking processor \(\Q$v2\E\) over \(\Q$v1\E\)/, 'dpkg upgraded in place')
    or diag($log);
my $dpkglog = '';
if (open(my $dl, '<', '/var/log/dpkg.log')) {
	seek($dl, $dpkglog_before, 0);
	local $/;
	$dpkglog = <$dl> // '';
}
like($dpkglog, qr/ configure processor:\S+ \Q$v2\E /, 'dpkg ran the postinst (configure) of the new version')
    or diag($dpkglog);
like(`cat $conf`, qr/local edit kept across upgrades/, 'the edited conffile was kept');
ok(!glob('/etc/processor/*.dpkg-*'), 'no .dpkg-new/.dpkg-dist/.dpkg-old left beside it');
@st = stat($conf);
is(sprintf('%04o %s', $st[2] & 07777, scalar getgrgid($st[5])), '0640 processor',
    'the statoverride still applies after the upgrade');
ok(-l '/etc/systemd/system/multi-user.target.wants/processor.service',
    'the unit is still enabled after the upgrade');
($rc, $log) = run("dpkg -i '$deb2'");
is($rc, 0, 'reinstalling the same version succeeds') or diag($log);

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
