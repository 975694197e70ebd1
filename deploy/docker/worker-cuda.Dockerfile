# syntax=docker/dockerfile:1
# An inference worker on an NVIDIA GPU: ONNX Runtime 1.31's CUDA provider (Microsoft.ML.OnnxRuntime.Gpu.Linux, the
# default OrtFlavor=Gpu) links libcudart.so.13 and libcublas.so.13 and loads cuDNN 9, so the runtime stage is NVIDIA's
# CUDA 13 + cuDNN 9 runtime image with the ASP.NET Core runtime copied in. Execution provider Auto: CUDA when it really
# works, else the CPU, reported by ecg2af_execution_provider_fallbacks_total (alert Ecg2AfGpuFallback).
# Build from the repository root:  docker build -f deploy/docker/worker-cuda.Dockerfile -t ecg2af/inference-worker-cuda:local .
# Run with the NVIDIA Container Toolkit (docker run --gpus all, or the Compose "gpu" profile).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY inference-worker/Ecg2Af.Ecg/Ecg2Af.Ecg.csproj inference-worker/Ecg2Af.Ecg/
COPY inference-worker/Ecg2Af.Inference/Ecg2Af.Inference.csproj inference-worker/Ecg2Af.Inference/
COPY inference-worker/Ecg2Af.Audit/Ecg2Af.Audit.csproj inference-worker/Ecg2Af.Audit/
COPY inference-worker/Ecg2Af.Security/Ecg2Af.Security.csproj inference-worker/Ecg2Af.Security/
COPY inference-worker/Ecg2Af.Worker/Ecg2Af.Worker.csproj inference-worker/Ecg2Af.Worker/
RUN dotnet restore inference-worker/Ecg2Af.Worker/Ecg2Af.Worker.csproj -r linux-x64 -p:OrtFlavor=Gpu
COPY inference-worker/Ecg2Af.Ecg/ inference-worker/Ecg2Af.Ecg/
COPY inference-worker/Ecg2Af.Inference/ inference-worker/Ecg2Af.Inference/
COPY inference-worker/Ecg2Af.Audit/ inference-worker/Ecg2Af.Audit/
COPY inference-worker/Ecg2Af.Security/ inference-worker/Ecg2Af.Security/
COPY inference-worker/Ecg2Af.Worker/ inference-worker/Ecg2Af.Worker/
RUN dotnet publish inference-worker/Ecg2Af.Worker/Ecg2Af.Worker.csproj -c Release -r linux-x64 --self-contained false --no-restore \
      -p:OrtFlavor=Gpu -o /app

# Only the ASP.NET Core runtime is taken from this image (same Ubuntu 24.04 base as the CUDA image).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS dotnet

FROM nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04 AS final
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3t64 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
# The same non-root user as the .NET images (uid 1654, "app").
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid 1654 app \
    && useradd --uid 1654 --gid app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /models /data && chown app /models /data
WORKDIR /app
COPY --from=build /app ./
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/healthcheck
ENV APP_UID=1654 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    Urls=http://+:8080 \
    Model__RepositoryPath=/models \
    Model__Runtime__ExecutionProvider=Auto \
    Audit__SqlitePath=/data/audit.db
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 CMD ["healthcheck", "/health/ready", "8080"]
ENTRYPOINT ["dotnet", "Ecg2Af.Worker.dll"]
