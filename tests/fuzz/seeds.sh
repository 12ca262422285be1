#!/bin/sh
# Writes a few realistic seed inputs per target into DIR/<target>/ (DIR:
# the first argument, relative to this directory; corpus by default).
# The corpora grow while fuzzing; they are not committed (.gitignore).
set -eu
cd "$(dirname "$0")"
dir=${1:-corpus}
n=0
seed() { # target, then printf format of the bytes
    mkdir -p "$dir/$1"
    n=$((n + 1))
    printf "$2" > "$dir/$1/seed-$n"
}
# http_head: byte 0 is the header capacity (low 5 bits), then the socket bytes.
seed http_head '\020HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\nLambda-Runtime-Deadline-Ms: 1542409706888\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-2:123456789012:function:fn\r\nLambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\nDate: Sun, 22 Nov 2026 20:00:00 GMT\r\nContent-Length: 2\r\n\r\n{}'
seed http_head '\010HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
seed http_head '\010POST /2015-03-31/functions/my-fn/invocations?Qualifier=%%24LATEST HTTP/1.1\r\nHost: localhost:9001\r\nX-Amz-Invocation-Type: RequestResponse\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}'
seed http_head '\002HTTP/1.0 413 Too Large\nConnection: close\n\n'
seed http_head '\001HTTP/1.1 202 \r\nA:  x:y  \r\n\r\n'
# chunked: byte 0 = mode (low 2 bits: 0 raw, 1 self-encoded, 2 sized) and limit (bits 2..), byte 1 = read-size seed.
seed chunked '\000\0075;name=v\r\nhello\r\n1 ; x\r\n!\r\n0\r\nTrailer: x\r\nOther: y\r\n\r\n'
seed chunked '\014\0033\nabc\n0\n\n'
seed chunked '\004\001A\r\n0123456789\r\n00000\r\nLambda-Runtime-Function-Error-Type: Function.X\r\n\r\n'
seed chunked '\001\011\105hello\003abc\200\377'
seed chunked '\002\005\000\005helloXYZ'
# addr: AWS_LAMBDA_RUNTIME_API as it may be set.
seed addr '127.0.0.1:9001'
seed addr 'http://[::1]:9001/base/'
seed addr 'localhost:9001'
seed addr '[::ffff:10.0.0.1]:1'
seed addr ' HTTP://169.254.100.1:9001/a/b/\n'
seed addr '1:2:3:4:5:6:1.2.3.4'
# json: events, error text, base64.
seed json '{"name":"x","times":3,"n":-7,"ok":true,"xs":[1,2,3],"inner":{"a":1},"kind":"B"}'
seed json '{"name":"a\\"b\\u00e9","times":0}'
seed json 'a"b\n\377\303\342\202 \001\177'
seed json 'Zm9vYg=='
# rie_text: byte 0 picks split points and numbers, then the text.
seed rie_text '\040/2015-03-31/functions/arn%%3Aaws%%3Alambda%%3Aus-east-1%%3A1%%3Afunction%%3Aecho/invocations?Qualifier=%%24LATEST'
seed rie_text '\030/2021-11-15/functions/echo/response-streaming-invocations?x=1&Qualifier=7'
seed rie_text '\020arn:aws:lambda:eu-west-1:123456789012:function:echo:7'
seed rie_text '\003a\0bc\0\0d'
seed rie_text '\005eyJjdXN0b20iOnsiayI6InYifX0='
