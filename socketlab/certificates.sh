# Lesson 7's certificates, made in the (empty) folder given as $1: by compose's `certificates` service
# (socketlab/tls.py moves them into place), or on one host where there is no Docker (socketlab/onehost.py,
# with that host's openssl). Nothing here comes from a user: no value is spliced in.
#   lesson/server.key, lesson/server.crt  the lesson's own pair, made by its two commands as it prints
#                                         them: self-signed, CN=localhost, no subjectAltName
#   ca.crt, ca.key                        a CA of the lab's own, with what Python 3.13's strict
#                                         check needs of a CA (basic constraints, key usage, key ids)
#   lab/server.key, lab/server.crt        the server's certificate from that CA, for the names the
#                                         clients use: server (the lab's network) and localhost
set -eu
exec 2>&1  # openssl's complaints on the one stream socketlab/tls.py keeps
cd "$1"
mkdir lesson lab
(cd lesson &&
  openssl genrsa -out server.key 2048 &&
  openssl req -new -x509 -key server.key -out server.crt -days 365 -subj "/CN=localhost")
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 365 -subj "/CN=socket-lab CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
printf '%s\n' "subjectAltName=DNS:server,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
  "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid,issuer" > server.ext
(cd lab &&
  openssl req -new -newkey rsa:2048 -nodes -keyout server.key -out ../server.csr -subj "/CN=server" &&
  openssl x509 -req -in ../server.csr -CA ../ca.crt -CAkey ../ca.key -set_serial 1 -days 365 \
    -extfile ../server.ext -out server.crt)
rm server.csr server.ext
# The servers' containers run as the lab's user, not as you: they read the servers' keys (test keys of
# this lab alone, in .lab/, which make down removes). The CA's key stays yours only.
chmod 644 lesson/server.key lab/server.key
chmod 600 ca.key
