# syntax=docker/dockerfile:1
# An inference worker on the CPU: ONNX Runtime's CPU-only package (OrtFlavor=Cpu), a much smaller image than the
# CUDA one. Build from the repository root:  docker build -f deploy/docker/worker.Dockerfile -t ecg2af/inference-worker:local .

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore layer: only what restore reads, so a source change does not restore again.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY inference-worker/Ecg2Af.Ecg/Ecg2Af.Ecg.csproj inference-worker/Ecg2Af.Ecg/
COPY inference-worker/Ecg2Af.Inference/Ecg2Af.Inference.csproj inference-worker/Ecg2Af.Inference/
COPY inference-worker/Ecg2Af.Audit/Ecg2Af.Audit.csproj inference-worker/Ecg2Af.Audit/
COPY inference-worker/Ecg2Af.Security/Ecg2Af.Security.csproj inference-worker/Ecg2Af.Security/
COPY inference-worker/Ecg2Af.Worker/Ecg2Af.Worker.csproj inference-worker/Ecg2Af.Worker/
RUN dotnet restore inference-worker/Ecg2Af.Worker/Ecg2Af.Worker.csproj -r linux-x64 -p:OrtFlavor=Cpu
COPY inference-worker/Ecg2Af.Ecg/ inference-worker/Ecg2Af.Ecg/
COPY inference-worker/Ecg2Af.Inference/ inference-worker/Ecg2Af.Inference/
COPY inference-worker/Ecg2Af.Audit/ inference-worker/Ecg2Af.Audit/
COPY inference-worker/Ecg2Af.Security/ inference-worker/Ecg2Af.Security/
COPY inference-worker/Ecg2Af.Worker/ inference-worker/Ecg2Af.Worker/
RUN dotnet publish inference-worker/Ecg2Af.Worker/Ecg2Af.Worker.csproj -c Release -r linux-x64 --self-contained false --no-restore \
      -p:OrtFlavor=Cpu -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
WORKDIR /app
COPY --from=build /app ./
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/healthcheck
# The model repository (the stand-in is built there on first start) and the SQLite audit file, writable by the app user.
RUN mkdir -p /models /data && chown "$APP_UID" /models /data
ENV Urls=http://+:8080 \
    Model__RepositoryPath=/models \
    Model__Runtime__ExecutionProvider=Cpu \
    Audit__SqlitePath=/data/audit.db
EXPOSE 8080
USER $APP_UID
# Ready once the model is loaded and warmed up (the first start also builds the stand-in).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["healthcheck", "/health/ready", "8080"]
ENTRYPOINT ["dotnet", "Ecg2Af.Worker.dll"]
