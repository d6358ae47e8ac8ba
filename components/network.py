"""10-network: the VPC every later stack runs in.

Default: a new VPC with a public and a private subnet per availability zone, an
internet gateway, NAT (one shared gateway, or one per AZ with
`NetworkConfig.nat_gateway_per_az`), route tables, an S3 gateway endpoint on the
private route tables so object-storage traffic skips NAT, an emptied default
security group, and flow logs to CloudWatch (`NetworkConfig.flow_log_retention_days`).

With `NetworkConfig.existing_vpc` the stack creates no network: data sources look
up the given VPC and subnets (so a wrong ID fails at plan, not in a later stack)
and only the S3 gateway endpoint is created, when `s3_gateway_endpoint` asks for it.

Interface for later stacks: `vpc_id`, `vpc_cidr`, `public_subnet_ids`,
`private_subnet_ids` (cdktf turns their use elsewhere into remote state).
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_subnet import DataAwsSubnet
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from components.shared.cidrs import ANYWHERE_IPV4
from components.shared.policy import policy_document
from components.shared.stack import LgtmStack
from config.common import Config, ExistingVpc, NetworkConfig


def s3_service_name(region: str) -> str:
    return f"com.amazonaws.{region}.s3"


class NetworkStack(LgtmStack):
    """The VPC, created or looked up; exposes the ids later stacks need."""

    vpc_id: str
    vpc_cidr: str
    public_subnet_ids: list[str]
    private_subnet_ids: list[str]

    def __init__(self, scope: Construct, stack_id: str, *, config: Config) -> None:
        super().__init__(scope, stack_id, config=config)
        network = config.network
        if network.existing_vpc is None:
            private_route_table_ids = self._create_vpc(network)
        else:
            private_route_table_ids = self._look_up_vpc(network.existing_vpc)

        self.s3_endpoint: VpcEndpoint | None = None
        if network.s3_gateway_endpoint:
            self.s3_endpoint = VpcEndpoint(
                self, "s3-endpoint",
                vpc_id=self.vpc_id,
                service_name=s3_service_name(config.aws_region),
                vpc_endpoint_type="Gateway",
                route_table_ids=private_route_table_ids,
                tags={"Name": config.resource_name("s3")},
            )

        TerraformOutput(self, "vpc_id", value=self.vpc_id)
        TerraformOutput(self, "vpc_cidr", value=self.vpc_cidr)
        TerraformOutput(self, "public_subnet_ids", value=self.public_subnet_ids)
        TerraformOutput(self, "private_subnet_ids", value=self.private_subnet_ids)

    def _create_vpc(self, network: NetworkConfig) -> list[str]:
        """A new VPC; returns the private route table ids (where the S3 endpoint goes)."""
        cfg = self.config
        # DNS hostnames and support: Cloud Map private DNS and EFS mount names need both.
        vpc = Vpc(
            self, "vpc",
            cidr_block=network.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": cfg.resource_name("vpc")},
        )
        # The default security group allows all traffic between its members; nothing
        # here uses it, so it is emptied (no rules) rather than left open.
        DefaultSecurityGroup(self, "default-security-group", vpc_id=vpc.id,
                             tags={"Name": cfg.resource_name("default-deny")})
        igw = InternetGateway(self, "internet-gateway", vpc_id=vpc.id,
                              tags={"Name": cfg.resource_name("igw")})

        public_route_table = RouteTable(self, "public-route-table", vpc_id=vpc.id,
                                        tags={"Name": cfg.resource_name("public")})
        Route(self, "public-default-route", route_table_id=public_route_table.id,
              destination_cidr_block=ANYWHERE_IPV4, gateway_id=igw.id)

        public_subnets: list[Subnet] = []
        private_subnets: list[Subnet] = []
        for index, zone in enumerate(network.availability_zones):
            # No public IPs on launch: only the ALB and NAT (with its EIP) live in public subnets.
            public = Subnet(
                self, f"public-subnet-{index}",
                vpc_id=vpc.id, cidr_block=network.public_subnet_cidrs[index],
                availability_zone=zone, map_public_ip_on_launch=False,
                tags={"Name": cfg.resource_name(f"public-{zone}"), "Tier": "public"},
            )
            private = Subnet(
                self, f"private-subnet-{index}",
                vpc_id=vpc.id, cidr_block=network.private_subnet_cidrs[index],
                availability_zone=zone, map_public_ip_on_launch=False,
                tags={"Name": cfg.resource_name(f"private-{zone}"), "Tier": "private"},
            )
            RouteTableAssociation(self, f"public-subnet-{index}-route-table",
                                  subnet_id=public.id, route_table_id=public_route_table.id)
            public_subnets.append(public)
            private_subnets.append(private)

        nat_gateways = self._nat_gateways(network, public_subnets, igw)
        private_route_table_ids = self._private_routes(network, vpc, private_subnets, nat_gateways)

        if network.flow_log_retention_days is not None:
            self._flow_logs(vpc, network.flow_log_retention_days)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = [subnet.id for subnet in public_subnets]
        self.private_subnet_ids = [subnet.id for subnet in private_subnets]
        return private_route_table_ids

    def _nat_gateways(self, network: NetworkConfig, public_subnets: list[Subnet],
                      igw: InternetGateway) -> list[NatGateway]:
        cfg = self.config
        # One NAT gateway in the first public subnet, or one per AZ so an AZ outage
        # does not cut the other AZ's tasks off from image pulls and AWS APIs.
        nat_count = len(public_subnets) if network.nat_gateway_per_az else 1
        nat_gateways: list[NatGateway] = []
        for index in range(nat_count):
            zone = network.availability_zones[index]
            eip = Eip(self, f"nat-eip-{index}", domain="vpc",
                      tags={"Name": cfg.resource_name(f"nat-{zone}")})
            nat_gateways.append(NatGateway(
                self, f"nat-gateway-{index}",
                allocation_id=eip.id, subnet_id=public_subnets[index].id,
                tags={"Name": cfg.resource_name(f"nat-{zone}")},
                depends_on=[igw],
            ))
        return nat_gateways

    def _private_routes(self, network: NetworkConfig, vpc: Vpc, private_subnets: list[Subnet],
                        nat_gateways: list[NatGateway]) -> list[str]:
        cfg = self.config
        # One private route table per AZ either way, so switching NAT modes only moves routes.
        private_route_table_ids: list[str] = []
        for index, zone in enumerate(network.availability_zones):
            table = RouteTable(self, f"private-route-table-{index}", vpc_id=vpc.id,
                               tags={"Name": cfg.resource_name(f"private-{zone}")})
            nat = nat_gateways[index if network.nat_gateway_per_az else 0]
            Route(self, f"private-default-route-{index}", route_table_id=table.id,
                  destination_cidr_block=ANYWHERE_IPV4, nat_gateway_id=nat.id)
            RouteTableAssociation(self, f"private-subnet-{index}-route-table",
                                  subnet_id=private_subnets[index].id, route_table_id=table.id)
            private_route_table_ids.append(table.id)
        return private_route_table_ids

    def _flow_logs(self, vpc: Vpc, retention_days: int) -> None:
        """All accepted and rejected traffic of the VPC, to a CloudWatch log group of its own."""
        cfg = self.config
        log_group = CloudwatchLogGroup(
            self, "flow-log-group", name=cfg.flow_log_group,
            retention_in_days=retention_days, kms_key_id=cfg.ecs.log_kms_key_arn,
        )
        account_id = DataAwsCallerIdentity(self, "account").account_id
        role = IamRole(
            self, "flow-log-role", name=cfg.resource_name("vpc-flow-logs"),
            description="VPC flow logs delivery to its own log group",
            assume_role_policy=policy_document([{
                "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }]),
        )
        IamRolePolicy(
            self, "flow-log-role-policy", name=cfg.resource_name("vpc-flow-logs"), role=role.id,
            policy=policy_document([{
                "Sid": "WriteOwnLogGroup", "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [log_group.arn, f"{log_group.arn}:log-stream:*"],
            }]),
        )
        FlowLog(self, "flow-log", vpc_id=vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                log_destination=log_group.arn, iam_role_arn=role.arn,
                tags={"Name": cfg.resource_name("vpc")})

    def _look_up_vpc(self, existing: ExistingVpc) -> list[str]:
        """Data sources for an existing VPC; returns the route tables config names for the endpoint."""
        vpc = DataAwsVpc(self, "vpc", id=existing.vpc_id)

        def look_up(kind: str, subnet_ids: tuple[str, ...]) -> list[str]:
            # vpc_id makes the lookup fail at plan when a subnet belongs to another VPC.
            return [DataAwsSubnet(self, f"{kind}-subnet-{index}", id=subnet_id, vpc_id=vpc.id).id
                    for index, subnet_id in enumerate(subnet_ids)]

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = look_up("public", existing.public_subnet_ids)
        self.private_subnet_ids = look_up("private", existing.private_subnet_ids)
        return list(existing.private_route_table_ids)
