# Homebrew formula for faas. It belongs in a tap (e.g. faas-rs/homebrew-tap);
# `make dist` writes the tarball's sha256 here and `make version-stamp` the
# version in the url, which is why this file is not inside the tarball.
class Faas < Formula
  desc "Small and fast AWS Lambda runtime: C library, header and local emulator"
  homepage "https://github.com/faas-rs/faas"
  url "https://github.com/faas-rs/faas/releases/download/v0.1.0/faas-0.1.0.tar.gz"
  sha256 "cbc98d7b6221b496fa5fef7b1c3ce95d9e7e07351c0873afacaf61a8c4e506a5"
  # faas's own code, and the crates compiled in (THIRD-PARTY-NOTICES).
  license all_of: [{ any_of: ["MIT", "Apache-2.0"] }, "MIT", "BSL-1.0"]

  depends_on "rust" => :build
  depends_on "pkgconf" => :test
  # Linux only: GNU ld flags, Linux system calls (macOS is not ported).
  depends_on :linux

  def install
    # The tarball vendors every crate and configures cargo offline. Homebrew
    # has no musl-gcc: faas-rie links with Homebrew's compiler instead.
    system "make", "install", "PREFIX=#{prefix}", "MUSL_CC=#{ENV.cc}"
  end

  test do
    (testpath/"handler.c").write <<~C
      #include <faas.h>
      static int echo(void *user_data, faas_invocation *inv) {
          size_t len;
          const uint8_t *event = faas_event(inv, &len);
          (void)user_data;
          return faas_respond(inv, event, len, "application/json");
      }
      int main(void) { return faas_run(echo, NULL, NULL); }
    C
    flags = shell_output("pkgconf --cflags --libs faas").split
    system ENV.cc, "-std=c99", "handler.c", *flags, "-o", "bootstrap"
    assert_match "FAAS_VERSION \"#{version}\"", (include/"faas.h").read

    assert_equal "faas-rie #{version}\n", shell_output("#{bin}/faas-rie --version")

    # faas-rie runs the bootstrap and serves it the Invoke API.
    port = free_port
    pid = spawn bin/"faas-rie", "--listen", "127.0.0.1:#{port}", "--runtime-api", "127.0.0.1:0",
                "--", testpath/"bootstrap"
    begin
      url = "http://127.0.0.1:#{port}/2015-03-31/functions/function/invocations"
      answer = ""
      50.times do
        answer = shell_output("curl -s -d '{\"hello\":\"brew\"}' #{url}", nil)
        break if answer.include?("hello")

        sleep 0.2
      end
      assert_equal "{\"hello\":\"brew\"}", answer
    ensure
      Process.kill("TERM", pid)
      Process.wait(pid)
    end
  end
end
