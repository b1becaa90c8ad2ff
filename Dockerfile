# Order Service and User Service: build on Debian bookworm, run on a slim image with only the runtime libraries.
#   docker build -t order-service .
#   docker run -p 8080:8080 -e ORDER_SERVICE_STORAGE_POSTGRES_CONNECTION="host=... password=..." order-service
#   docker run -p 8081:8081 -e USER_SERVICE_STORAGE_POSTGRES_CONNECTION="host=... password=..." \
#     --entrypoint /opt/order-service/user-service order-service --config=/opt/order-service/config/user-service.docker.ini
# /opt/order-service/user-service is a link to the one executable: run by that name it is User Service.
# docker-compose.yml runs both together with PostgreSQL.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates cmake g++ make libpoco-dev libpq-dev libboost-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The whole source tree (.dockerignore drops build folders, .git, local databases): CMakeLists.txt
# decides which subfolders the build reads, so no list here to keep in step with it.
COPY . .
# --strip drops only the static symbol tables; Boost.DLL finds the plugin entry points via dlsym.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DORDER_SERVICE_BUILD_TESTS=OFF -DORDER_SERVICE_BUILD_BENCH=OFF \
 && cmake --build build -j"$(nproc)" \
 && cmake --install build --prefix /opt/order-service --strip

FROM debian:bookworm-slim
# The packages that own the libraries the binaries and plugins link (ldd + dpkg -S); they pull in
# libpocojson80, libpocoxml80 and libsqlite3-0. libstdc++6 is already in the base image.
# apt-get clean: not every bookworm base image drops the downloaded .debs by itself (83 MB).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpocofoundation80 libpoconet80 libpocoutil80 libpocodata80 \
      libpocodatasqlite80 libpocodatapostgresql80 libpq5 \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 999 order-service \
 && useradd --system --uid 999 --gid order-service --home-dir /opt/order-service --no-create-home \
      --shell /usr/sbin/nologin order-service
COPY --from=build /opt/order-service /opt/order-service
# data/ is where the default (SQLite) configuration keeps orders.db: the only folder the service writes.
# The ldd check fails the build if a runtime library is missing.
RUN install -d -o order-service -g order-service -m 0750 /opt/order-service/data \
 && ! ldd /opt/order-service/order-service /opt/order-service/plugins/*.so | grep 'not found'

# PostgreSQL by default, at host db: an overlay on config/order-service.postgres.ini, so that any
# ORDER_SERVICE_STORAGE_POSTGRES_CONNECTION (or the deprecated ORDER_SERVICE_STORAGE_CONNECTION)
# replaces it. The password is not baked in: add password=... to the string or set PGPASSWORD.
# user-service.docker.ini: the same for User Service (database users; USER_SERVICE_STORAGE_POSTGRES_CONNECTION).
RUN printf '%s\n' '[config]' 'base = order-service.postgres.ini' '[storage-postgres]' \
      'connection = host=db port=5432 dbname=orders user=orders connect_timeout=2 tcp_user_timeout=5000' \
      > /opt/order-service/config/order-service.docker.ini \
 && printf '%s\n' '[config]' 'base = user-service.postgres.ini' '[storage-postgres]' \
      'connection = host=db port=5432 dbname=users user=users connect_timeout=2 tcp_user_timeout=5000' \
      > /opt/order-service/config/user-service.docker.ini
# Numeric, so that runAsNonRoot-style checks can verify it without /etc/passwd.
USER 999:999
WORKDIR /opt/order-service
# 8080 Order Service, 8081 User Service
EXPOSE 8080 8081
# /health answers 200 once the server listens. bash's /dev/tcp: no curl/wget in the image. Order
# Service's port: docker-compose.yml gives user-service a check of its own on 8081.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 2 status <&3 && [[ $status == *' 200 '* ]]"]
# Exec form: the service is PID 1 and gets SIGTERM itself (graceful stop, exit 0). Logs: JSON lines on stdout.
ENTRYPOINT ["/opt/order-service/order-service"]
CMD ["--config=/opt/order-service/config/order-service.docker.ini"]
