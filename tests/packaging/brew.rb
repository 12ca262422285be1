# A stand-in for the part of Homebrew that runs a formula, to run
# Formula/faas.rb's own `install` and `test` blocks where brew itself cannot
# be installed (its installer and taps live on github.com, which these
# machines do not reach). It is not brew: no superenv, no sandbox, no
# linkage or audit checks. It does what `brew install --build-from-source`
# and `brew test` do with this formula: check the tarball's sha256 against
# the formula's, unpack it, run `install` in the source with `prefix` set to
# a keg, then run `test` in an empty directory with the keg's pkg-config
# files on the search path. A DSL method the formula uses and this file
# does not define fails with NoMethodError, so the formula cannot drift
# past what is tested without this file changing too.
#
#   ruby brew.rb FORMULA TARBALL WORKDIR             install, then test
#   ruby brew.rb FORMULA TARBALL WORKDIR --test-only  test the installed keg
require "digest"
require "fileutils"
require "open3"
require "pathname"
require "socket"
require "tmpdir"

class BuildError < StandardError; end
class TestFailure < StandardError; end

# Homebrew makes a Pathname pass for a String (Library/Homebrew/extend/
# pathname.rb), so formulae write `spawn bin/"tool"`; plain Ruby refuses that.
class Pathname
  alias to_str to_s
end

# Homebrew's superenv sets CC; `ENV.cc` is the compiler a formula builds with.
def ENV.cc = ENV.fetch("CC", "cc")

class Formula
  class << self
    attr_reader :url_s, :sha256_s, :deps, :test_block

    def desc(_text) = nil
    def homepage(_url) = nil
    def license(_spdx) = nil
    def url(u) = (@url_s = u)
    def sha256(s) = (@sha256_s = s)
    def test(&block) = (@test_block = block)

    def depends_on(dep)
      (@deps ||= []) << dep
      raise BuildError, "depends_on :linux, and this is #{RUBY_PLATFORM}" if dep == :linux && !RUBY_PLATFORM.include?("linux")
    end
  end

  attr_reader :prefix, :testpath

  def initialize(cellar)
    @prefix = Pathname(cellar) / name / version
  end

  def name = self.class.name.gsub(/(?<=.)([A-Z])/, '-\1').downcase
  # As Homebrew parses it from a release tarball's url: NAME-VERSION.tar.gz.
  def version = self.class.url_s[/-(\d+(?:\.\d+)+)\.tar\.gz\z/, 1] || raise(BuildError, "no version in #{self.class.url_s}")
  def bin = prefix / "bin"
  def lib = prefix / "lib"
  def include = prefix / "include"

  # Homebrew's `system` raises when the command fails.
  def system(*args)
    puts "==> #{args.join(" ")}"
    Kernel.system(*args.map(&:to_s)) || raise(BuildError, "failed: #{args.join(" ")}")
  end

  # Runs `cmd` in a shell and returns its output; checks its exit status
  # unless `result` is nil.
  def shell_output(cmd, result = 0)
    out, status = Open3.capture2(cmd)
    raise TestFailure, "#{cmd}: exit #{status.exitstatus}, expected #{result}" if result && status.exitstatus != result
    out
  end

  def free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  def assert_equal(expected, actual)
    raise TestFailure, "expected #{expected.inspect}, got #{actual.inspect}" unless expected == actual
  end

  def assert_match(matcher, actual)
    matcher = Regexp.new(Regexp.escape(matcher)) if matcher.is_a?(String)
    raise TestFailure, "expected #{actual.inspect} to match #{matcher.inspect}" unless matcher.match?(actual)
  end

  def run_test
    Dir.mktmpdir("brew-test") do |dir|
      @testpath = Pathname(dir)
      ENV["PKG_CONFIG_PATH"] = (lib / "pkgconfig").to_s
      Dir.chdir(dir) { instance_eval(&self.class.test_block) }
    end
  end
end

formula_file, tarball, work, mode = ARGV
abort "usage: ruby brew.rb FORMULA TARBALL WORKDIR [--test-only]" unless work
load formula_file
klass = Formula.subclasses.first or abort "#{formula_file} defines no Formula"
formula = klass.new(File.join(File.expand_path(work), "Cellar"))

begin
  unless mode == "--test-only"
    actual = Digest::SHA256.file(tarball).hexdigest
    raise BuildError, "sha256 mismatch: the formula says #{klass.sha256_s}, #{tarball} is #{actual}" if actual != klass.sha256_s

    src = File.join(work, "src")
    FileUtils.rm_rf(src)
    FileUtils.mkdir_p(src)
    Kernel.system("tar", "-xzf", tarball, "-C", src) || raise(BuildError, "cannot unpack #{tarball}")
    top = Dir.children(src)
    raise BuildError, "the tarball holds #{top}, not one directory" unless top.size == 1

    Dir.chdir(File.join(src, top[0])) { formula.install }
    puts "==> installed #{formula.prefix}"
  end
  formula.run_test
  puts "==> test passed"
rescue BuildError, TestFailure => e
  abort "brew.rb: #{e.class}: #{e.message}"
end
