# syntax=docker/dockerfile:1
# The gateway (YARP, client-IP hashing over the workers; serves the web form at /).
# Build from the repository root:  docker build -f deploy/docker/gateway.Dockerfile -t ecg2af/gateway:local .

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore layer: only what restore reads, so a source change does not restore again.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY gateway/Ecg2Af.Gateway/Ecg2Af.Gateway.csproj gateway/Ecg2Af.Gateway/
COPY inference-worker/Ecg2Af.Security/Ecg2Af.Security.csproj inference-worker/Ecg2Af.Security/
RUN dotnet restore gateway/Ecg2Af.Gateway/Ecg2Af.Gateway.csproj -r linux-x64
COPY gateway/Ecg2Af.Gateway/ gateway/Ecg2Af.Gateway/
COPY inference-worker/Ecg2Af.Security/ inference-worker/Ecg2Af.Security/
# The project copies web/** (not its browser tests) next to its binaries.
COPY web/ web/
RUN dotnet publish gateway/Ecg2Af.Gateway/Ecg2Af.Gateway.csproj -c Release -r linux-x64 --self-contained false --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
WORKDIR /app
COPY --from=build /app ./
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/healthcheck
# Urls (not ASPNETCORE_URLS) because appsettings.json sets Urls, and plain environment variables override it.
ENV Urls=http://+:8080
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["healthcheck", "/health/ready", "8080"]
ENTRYPOINT ["dotnet", "Ecg2Af.Gateway.dll"]
