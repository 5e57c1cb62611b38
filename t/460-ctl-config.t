#!/usr/bin/perl
# processorctl config: effective values, each with its source (default, FILE:LINE, the
# environment variable), passwords masked in both the table and the JSON.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use CtlTest;

my ($r, $pg) = Harness::stack(ready => 0);
# trust authentication ignores the password, so the daemon still connects
(my $pg_url = $pg->url) =~ s{^postgresql://postgres\@}{postgresql://postgres:s3cr3t-pw\@}
    or BAIL_OUT('unexpected test PostgreSQL URL ' . $pg->url);
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 1 }, postgres => { url => $pg_url },
	redis => { batch_size => 123 } },
    env => { PROCESSOR_REDIS_BLOCK_MS => 700 });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('not ready');

# the line of a key in the generated file
sub line_of
{
	my ($section, $key) = @_;
	my ($cur, $n) = ('', 0);
	for (split /\n/, Harness::slurp($p->config_path)) {
		$n++;
		$cur = $1 if /^\[(\w+)\]/;
		return $n if $cur eq $section && /^\Q$key\E\s*=/;
	}
	return undef;
}

my ($rc, $j, $out, $err) = ctl_json($p, 'config');
is($rc, 0, 'config --json: exit 0') or diag($err);
ok($j && $j->{ok}, 'ok true');
is($j->{config}, $p->config_path, 'names the file read');
my %k = map { ("$_->{section}.$_->{key}" => $_) } @{$j->{keys} // []};
cmp_ok(scalar keys %k, '>=', 29, 'every key listed') or diag(join ' ', sort keys %k);

my $cfg = $p->config_path;
my $bl = line_of('redis', 'batch_size');
ok($bl, "batch_size is on line $bl of the file");
is($k{'redis.batch_size'}{value}, '123', 'file value');
is($k{'redis.batch_size'}{source}, "$cfg:$bl", 'file value: FILE:LINE');
is($k{'processor.workers'}{source}, "$cfg:" . line_of('processor', 'workers'),
    'another file value: its own line');
is($k{'redis.block_ms'}{value}, '700', 'environment value');
is($k{'redis.block_ms'}{source}, 'PROCESSOR_REDIS_BLOCK_MS', 'environment: the variable');
is($k{'redis.claim_idle_ms'}{value}, '60000', 'default value');
is($k{'redis.claim_idle_ms'}{source}, 'default', 'default: default');
is($k{'domain.late_window_s'}{source}, 'default', 'a [domain] default');
like($k{'postgres.url'}{value}, qr{^postgresql://postgres:\*\*\*\*\@127\.0\.0\.1:\d+/},
    'postgres password masked, host kept');
is($k{'postgres.url'}{source}, "$cfg:" . line_of('postgres', 'url'), 'postgres url from the file');
unlike($out, qr/s3cr3t/, 'the password is nowhere in the JSON');

($rc, $out, $err) = ctl($p, 'config');
is($rc, 0, 'config: exit 0') or diag($err);
like($out, qr/^config: \Q$cfg\E$/m, 'table: the file');
like($out, qr/^SECTION\s+KEY\s+VALUE\s+SOURCE$/m, 'table: header');
like($out, qr/^redis\s+batch_size\s+123\s+\Q$cfg:$bl\E$/m, 'table: file row');
like($out, qr/^redis\s+block_ms\s+700\s+PROCESSOR_REDIS_BLOCK_MS$/m, 'table: environment row');
like($out, qr/^redis\s+claim_idle_ms\s+60000\s+default$/m, 'table: default row');
like($out, qr{^postgres\s+url\s+postgresql://postgres:\*\*\*\*\@}m, 'table: masked row');
unlike($out, qr/s3cr3t/, 'the password is nowhere in the table');
unlike(Harness::slurp($p->log_path), qr/s3cr3t/, 'nor in the log');

# a reload re-reads the file: the table follows what the master runs with
my %c = %{$p->config};
$c{redis} = { %{$c{redis}}, batch_size => 77 };
$c{postgres} = { %{$c{postgres}} };
$p->write_config(\%c);
my $mark = $p->mark;
($rc, undef, undef, $err) = ctl_json($p, 'reload');
is($rc, 0, 'reload') or diag($err);
ok(wait_until(sub { my (undef, $x) = ctl_json($p, 'config');
	grep { $_->{key} eq 'batch_size' && $_->{value} eq '77' } @{$x->{keys} // []} },
    timeout => 30, desc => 'reloaded value'), 'config shows the reloaded value');
ok($p->wait_log(qr/reload complete/, 60, from => $mark), 'reload complete');

is($p->stop, 0, 'stops cleanly, exit 0');
done_testing;
